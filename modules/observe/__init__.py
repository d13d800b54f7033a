"""Being told before users notice: alarm topics, alarms, the outside health check, the budget.

- `topic`: the e-mail topic every alarm of an environment notifies (on alarm and on OK).
- `alarms`: the alarm sets of the database, the API on ECS and the API on EC2.
- `health_check`: Route53's HTTPS check of the API from outside AWS, and its alarm.
- `budget`: the account's monthly AWS Budget.
"""
