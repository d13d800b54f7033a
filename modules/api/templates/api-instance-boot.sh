#!/bin/bash
# First boot of the LITTIL API instance (cloud-init user data), rendered by modules/api/ec2.py.
# This script only writes files, which cannot fail for want of a network. Everything that
# downloads (packages, certbot) is littil-setup.service: it waits for the network, is safe to
# repeat, and is retried every 30 s until it succeeds, so a failed first boot heals itself
# instead of leaving a half-set-up instance. Once set up, systemd runs:
#   littil-api.service          the API container on 127.0.0.1:8080 (secrets fetched at each start)
#   littil-certificate.service  restores the environment's stored certificate, or obtains one from Let's Encrypt
#                               once DNS points here; then starts nginx
#   certbot-renew.timer         renews twice a day; nginx is stopped only around an actual renewal, and every
#                               new certificate is stored again (certbot's deploy hook)
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
CERTIFICATE_SECRET=@@CERTIFICATE_SECRET@@
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

cat > /usr/local/bin/littil-certificate-store <<'STORE'
#!/bin/bash
# The Let's Encrypt account and current certificate live in the environment's secret as well, so a
# replaced instance reuses them: Let's Encrypt issues 5 certificates per name per week. The secret holds
# data only, never code: certbot runs the hooks of its renewal settings as root, so those are written
# here, never stored or restored, and a stored archive with anything but data in it is refused whole.
#   restore  check, then unpack the stored copy into /etc/letsencrypt and write the renewal settings
#            (nothing stored yet: nothing to do)
#   save     store the account and the current certificate files (certbot's deploy hook: after every
#            issuance and renewal)
set -euo pipefail
conf=${LITTIL_CONF_DIR:-/etc/littil}
. "$conf/instance.conf"
letsencrypt=${LITTIL_LETSENCRYPT_DIR:-/etc/letsencrypt}
server=https://acme-v02.api.letsencrypt.org/directory
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "${1:-}" in
  restore)
    if ! aws secretsmanager get-secret-value --secret-id "$CERTIFICATE_SECRET" --region "$AWS_REGION" \
        --query SecretBinary --output text > "$work/stored" 2> "$work/error"; then
      if grep -q ResourceNotFoundException "$work/error"; then
        echo "no stored certificate yet" >&2
        exit 0
      fi
      cat "$work/error" >&2
      exit 1
    fi
    base64 -d "$work/stored" > "$work/letsencrypt.tar.gz"
    # What may be in it: directories and the account's JSON files under accounts/, the archive's
    # certificate files of this domain, and the live links to exactly those. Anything else (renewal
    # settings, hooks, a path that leaves the directory, a link elsewhere, a device) refuses it all.
    python3 - "$work/letsencrypt.tar.gz" "$API_DOMAIN" <<'CHECK'
import re
import sys
import tarfile

archive, domain = sys.argv[1], re.escape(sys.argv[2])
pem = r"(?P<name>cert|chain|fullchain|privkey)"
part = r"/[\w-][\w.-]*"  # a path component, never `.` or `..`
allowed = {
    "directory": re.compile(rf"(accounts({part})*|live|live/{domain}|archive|archive/{domain})/?"),
    "file": re.compile(rf"accounts({part})+\.json|live/{domain}/README|archive/{domain}/{pem}[0-9]+\.pem"),
    "link": re.compile(rf"live/{domain}/{pem}\.pem"),
}
target = re.compile(rf"\.\./\.\./archive/{domain}/{pem}[0-9]+\.pem")
unexpected = []
with tarfile.open(archive) as stored:
    for member in stored.getmembers():
        kind = "directory" if member.isdir() else "file" if member.isfile() else "link" if member.issym() else None
        name = allowed[kind].fullmatch(member.name) if kind else None
        pointed = target.fullmatch(member.linkname) if kind == "link" else None
        if not name or (kind == "link" and not (pointed and pointed["name"] == name["name"])):
            unexpected.append(member.name)
if unexpected:
    sys.exit(f"refusing the stored certificate: it holds more than certificates and the account: {unexpected}")
CHECK
    install -d -m 0700 "$letsencrypt"
    tar -xzf "$work/letsencrypt.tar.gz" -C "$letsencrypt" --no-same-owner
    accounts=("$letsencrypt"/accounts/acme-v02.api.letsencrypt.org/directory/*/)
    if [ ! -d "${accounts[0]}" ]; then
      echo "refusing the stored certificate: it holds no Let's Encrypt account" >&2
      exit 1
    fi
    account=$(basename "${accounts[0]}")
    install -d -m 0755 "$letsencrypt/renewal"
    cat > "$letsencrypt/renewal/$API_DOMAIN.conf" <<RENEWAL
archive_dir = $letsencrypt/archive/$API_DOMAIN
cert = $letsencrypt/live/$API_DOMAIN/cert.pem
privkey = $letsencrypt/live/$API_DOMAIN/privkey.pem
chain = $letsencrypt/live/$API_DOMAIN/chain.pem
fullchain = $letsencrypt/live/$API_DOMAIN/fullchain.pem

[renewalparams]
account = $account
authenticator = standalone
server = $server
RENEWAL
    echo "restored the stored certificate for $API_DOMAIN" >&2
    ;;
  save)
    cd "$letsencrypt"
    # Only the files the live links point at: the archive's older versions would outgrow the secret.
    files=(accounts "live/$API_DOMAIN")
    for link in "live/$API_DOMAIN"/*.pem; do
      files+=("$(realpath --relative-to=. "$link")")
    done
    tar -czf "$work/letsencrypt.tar.gz" "${files[@]}"
    aws secretsmanager put-secret-value --secret-id "$CERTIFICATE_SECRET" \
      --secret-binary "fileb://$work/letsencrypt.tar.gz" --region "$AWS_REGION" --query VersionId --output text > /dev/null
    echo "stored the certificate for $API_DOMAIN" >&2
    ;;
  *)
    echo "usage: littil-certificate-store restore|save" >&2
    exit 2
    ;;
esac
STORE
chmod 0750 /usr/local/bin/littil-certificate-store

cat > /usr/local/bin/littil-certificate <<'CERT'
#!/bin/bash
# The certificate nginx serves: the environment's stored one if there is one, else a new one from
# Let's Encrypt, asked for only once DNS for the API host answers with this instance's public
# address (earlier, validation fails, and Let's Encrypt allows 5 failures per name per hour).
# Port 80 must be free for certbot: nginx is stopped while it runs. Then nginx.
set -euo pipefail
conf=${LITTIL_CONF_DIR:-/etc/littil}
. "$conf/instance.conf"
live=${LITTIL_LETSENCRYPT_DIR:-/etc/letsencrypt}/live/$API_DOMAIN/fullchain.pem
[ -s "$live" ] || littil-certificate-store restore
if [ ! -s "$live" ]; then
  metadata=http://169.254.169.254/latest
  while :; do
    token=$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "$metadata/api/token")
    address=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "$metadata/meta-data/public-ipv4")
    resolved=$(getent ahostsv4 "$API_DOMAIN" | awk '{print $1}' | sort -u || true)
    if grep -qxF "$address" <<<"$resolved"; then
      break
    fi
    echo "$API_DOMAIN resolves to ${resolved:-nothing}, not to this instance ($address): asking again in 30 s" >&2
    sleep "${LITTIL_DNS_POLL_SECONDS:-30}"
  done
  systemctl stop nginx || true
  certbot certonly --standalone --non-interactive --agree-tos --no-eff-email -m "$CERTBOT_EMAIL" -d "$API_DOMAIN" \
    --deploy-hook "littil-certificate-store save"
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
certificate=${LITTIL_LETSENCRYPT_DIR:-/etc/letsencrypt}/live/$API_DOMAIN/fullchain.pem
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
# The script itself waits for DNS; a failed issuance is tried again after 15 minutes, which keeps
# below Let's Encrypt's 5 failed validations per name per hour.
Restart=on-failure
RestartSec=900
# Waiting for DNS may take as long as the cut-over does.
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
UNIT

# These two replace the certbot package's units of the same names: --standalone needs port 80.
cat > /etc/systemd/system/certbot-renew.service <<'UNIT'
[Unit]
Description=Renew the LITTIL API certificate (nginx is stopped only while a renewal runs)

[Service]
Type=oneshot
ExecStart=/usr/bin/certbot renew --quiet --standalone --pre-hook "systemctl stop nginx" --post-hook "systemctl start nginx" --deploy-hook "littil-certificate-store save"
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
# certbot from Amazon Linux's own repository: updated with the system (dnf), not pinned to what an
# old Python can still install from PyPI.
dnf install -y docker nginx jq openssl certbot
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
