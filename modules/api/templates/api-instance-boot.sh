#!/bin/bash
# First boot of the LITTIL API instance (cloud-init user data), rendered by modules/api/ec2.py.
# This script only writes files, which cannot fail for want of a network. Everything that
# downloads (packages, certbot) is littil-setup.service: it waits for the network, is safe to
# repeat, and is retried every 30 s until it succeeds, so a failed first boot heals itself
# instead of leaving a half-set-up instance. Once set up, systemd runs:
#   littil-api.service          the API container on 127.0.0.1:8080 (secrets fetched at each start)
#   littil-certificate.service  obtains the Let's Encrypt certificate (retries until DNS points here), starts nginx
#   certbot-renew.timer         renews twice a day; nginx is stopped only around an actual renewal
#   littil-certificate-days.timer  publishes the certificate's days to expiry every hour (an alarm reads it)
set -euo pipefail

install -d -m 0755 /etc/littil /etc/nginx/conf.d /var/lib/littil
# Plain settings: nothing secret in here.
cat > /etc/littil/api.env <<'SETTINGS'
@@ENVIRONMENT@@
SETTINGS
# Where each secret comes from: "<variable> <secret ARN> <JSON key>". References only, never values.
cat > /etc/littil/api-secrets <<'SECRETS'
@@SECRETS@@
SECRETS
cat > /etc/littil/instance.conf <<'CONF'
AWS_REGION=@@REGION@@
REGISTRY=@@REGISTRY@@
IMAGE_REPOSITORY=@@IMAGE_REPOSITORY@@
IMAGE_TAG_PARAMETER=@@IMAGE_TAG_PARAMETER@@
API_DOMAIN=@@API_DOMAIN@@
CERTBOT_EMAIL=@@CERTBOT_EMAIL@@
METRIC_NAMESPACE=@@METRIC_NAMESPACE@@
METRIC_NAME=@@METRIC_NAME@@
CONF

cat > /usr/local/bin/littil-api-start <<'START'
#!/bin/bash
# Log in to ECR, pull the tag named in SSM, fetch the secrets into this process's environment
# and exec docker with `--env NAME` (no value on the command line, nothing written to disk).
set -euo pipefail
conf=${LITTIL_CONF_DIR:-/etc/littil}
. "$conf/instance.conf"
export AWS_REGION
tag=$(aws ssm get-parameter --name "$IMAGE_TAG_PARAMETER" --query Parameter.Value --output text)
image="$REGISTRY/$IMAGE_REPOSITORY:$tag"
aws ecr get-login-password | docker login --username AWS --password-stdin "$REGISTRY"
docker pull "$image"
declare -A documents=()
env_args=()
while read -r variable secret_arn json_key; do
  [ -n "$variable" ] || continue
  if [ -z "${documents[$secret_arn]+set}" ]; then
    documents[$secret_arn]=$(aws secretsmanager get-secret-value --secret-id "$secret_arn" --query SecretString --output text)
  fi
  value=$(jq -er --arg key "$json_key" '.[$key]' <<<"${documents[$secret_arn]}")
  export "$variable=$value"
  env_args+=(--env "$variable")
done < "$conf/api-secrets"
exec docker run --rm --name littil-api --env-file "$conf/api.env" "${env_args[@]}" \
  --publish 127.0.0.1:8080:8080 --log-opt max-size=20m --log-opt max-file=5 "$image"
START
chmod 0750 /usr/local/bin/littil-api-start

cat > /usr/local/bin/littil-certificate <<'CERT'
#!/bin/bash
# Obtain the certificate once (port 80 must be free: nginx is stopped), then run nginx.
set -euo pipefail
. /etc/littil/instance.conf
if [ ! -s "/etc/letsencrypt/live/$API_DOMAIN/fullchain.pem" ]; then
  systemctl stop nginx || true
  certbot certonly --standalone --non-interactive --agree-tos --no-eff-email -m "$CERTBOT_EMAIL" -d "$API_DOMAIN"
fi
systemctl enable --now nginx
systemctl reload nginx
CERT
chmod 0750 /usr/local/bin/littil-certificate

cat > /usr/local/bin/littil-certificate-days <<'DAYS'
#!/bin/bash
# Publish how many days the Let's Encrypt certificate has left. Without a certificate nothing is
# published: the alarm treats missing data as a failure, so "no certificate" alarms as well.
set -euo pipefail
conf=${LITTIL_CONF_DIR:-/etc/littil}
. "$conf/instance.conf"
certificate=${LITTIL_LIVE_DIR:-/etc/letsencrypt/live}/$API_DOMAIN/fullchain.pem
if [ ! -s "$certificate" ]; then
  echo "no certificate at $certificate yet: nothing published" >&2
  exit 0
fi
expires=$(date -d "$(openssl x509 -enddate -noout -in "$certificate" | cut -d= -f2)" +%s)
days=$(( (expires - $(date +%s)) / 86400 ))
aws cloudwatch put-metric-data --region "$AWS_REGION" --namespace "$METRIC_NAMESPACE" \
  --metric-name "$METRIC_NAME" --dimensions "Domain=$API_DOMAIN" --unit Count --value "$days"
DAYS
chmod 0750 /usr/local/bin/littil-certificate-days

. /etc/littil/instance.conf
cat > /etc/nginx/conf.d/littil-api.conf <<NGINX
server {
    listen 80;
    listen [::]:80;
    server_name $API_DOMAIN;
    return 301 https://\$host\$request_uri;
}

server {
    listen 443 ssl http2;
    listen [::]:443 ssl http2;
    server_name $API_DOMAIN;
    ssl_certificate /etc/letsencrypt/live/$API_DOMAIN/fullchain.pem;
    ssl_certificate_key /etc/letsencrypt/live/$API_DOMAIN/privkey.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    add_header Strict-Transport-Security "max-age=31536000" always;
    client_max_body_size 10m;

    location / {
        proxy_pass http://127.0.0.1:8080;
        proxy_set_header Host \$host;
        proxy_set_header X-Real-IP \$remote_addr;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto https;
    }
}
NGINX

cat > /etc/systemd/system/littil-api.service <<'UNIT'
[Unit]
Description=LITTIL API container
After=docker.service network-online.target
Requires=docker.service
Wants=network-online.target

[Service]
ExecStartPre=-/usr/bin/docker rm --force littil-api
ExecStart=/usr/local/bin/littil-api-start
ExecStop=/usr/bin/docker stop littil-api
Restart=always
RestartSec=15

[Install]
WantedBy=multi-user.target
UNIT

cat > /etc/systemd/system/littil-certificate.service <<'UNIT'
[Unit]
Description=Let's Encrypt certificate for the LITTIL API, then nginx
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/littil-certificate
# Until DNS for the API host points at this instance's Elastic IP, validation fails: try again.
Restart=on-failure
RestartSec=120

[Install]
WantedBy=multi-user.target
UNIT

cat > /etc/systemd/system/certbot-renew.service <<'UNIT'
[Unit]
Description=Renew the LITTIL API certificate (nginx is stopped only while a renewal runs)

[Service]
Type=oneshot
ExecStart=/usr/local/bin/certbot renew --quiet --standalone --pre-hook "systemctl stop nginx" --post-hook "systemctl start nginx"
UNIT

cat > /etc/systemd/system/certbot-renew.timer <<'UNIT'
[Unit]
Description=Twice-daily certificate renewal check

[Timer]
OnCalendar=*-*-* 03,15:17:00
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
UNIT

cat > /etc/systemd/system/littil-certificate-days.service <<'UNIT'
[Unit]
Description=Publish the LITTIL API certificate's days to expiry to CloudWatch
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/local/bin/littil-certificate-days
UNIT

cat > /etc/systemd/system/littil-certificate-days.timer <<'UNIT'
[Unit]
Description=Hourly report of the certificate's days to expiry

[Timer]
OnCalendar=hourly
RandomizedDelaySec=5m
Persistent=true

[Install]
WantedBy=timers.target
UNIT

cat > /usr/local/sbin/littil-setup <<'SETUP'
#!/bin/bash
# The part of the first boot that needs the network. Every step may run again after a failure.
set -euo pipefail
dnf install -y docker nginx jq openssl python3 python3-pip
# certbot from PyPI in its own virtualenv (certbot's documented pip install; AL2023 has no certbot
# package), linked into /usr/bin as well: sudo's PATH does not include /usr/local/bin.
[ -x /opt/certbot/bin/pip ] || python3 -m venv /opt/certbot
/opt/certbot/bin/pip install --quiet --upgrade pip certbot
ln -sf /opt/certbot/bin/certbot /usr/local/bin/certbot
ln -sf /opt/certbot/bin/certbot /usr/bin/certbot
systemctl daemon-reload
systemctl enable --now docker.service
systemctl enable --now littil-api.service certbot-renew.timer littil-certificate-days.timer
systemctl enable --now --no-block littil-certificate.service
touch /var/lib/littil/setup-done
SETUP
chmod 0750 /usr/local/sbin/littil-setup

cat > /etc/systemd/system/littil-setup.service <<'UNIT'
[Unit]
Description=LITTIL API instance set-up: packages, certbot, then the API (retried until it succeeds)
After=network-online.target
Wants=network-online.target
ConditionPathExists=!/var/lib/littil/setup-done
# Never give up: a boot without network must not leave the instance half set up.
StartLimitIntervalSec=0

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/littil-setup
Restart=on-failure
RestartSec=30

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable littil-setup.service
systemctl start --no-block littil-setup.service
