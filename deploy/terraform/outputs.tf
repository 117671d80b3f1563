output "keyspaces_endpoint" {
  description = "Where tally writes: the --sink of the service."
  value       = "cassandra://${local.keyspaces_host}:9142/${var.keyspace_name}.${var.table_name}"
}

output "keyspaces_table_arn" {
  description = "The counts table."
  value       = aws_keyspaces_table.daily_counts.arn
}

output "kafka_bootstrap_servers" {
  description = "SASL_SSL bootstrap servers the job reads from."
  value       = local.kafka_bootstrap
}

output "kafka_group" {
  description = "The job's consumer group; its internal topics are GROUP-TOPIC-changelog, -settings (and -repartition)."
  value       = local.kafka_group
}

output "ecs_cluster" {
  description = "ECS cluster of the service."
  value       = aws_ecs_cluster.this.name
}

output "ecs_service" {
  description = "The tally service (its desired count belongs to the lag autoscaling)."
  value       = aws_ecs_service.tally.name
}

output "task_role_arn" {
  description = "tally's IAM role: writes to the counts table only, reads the schema."
  value       = aws_iam_role.task.arn
}

output "prometheus_query_endpoint" {
  description = "Amazon Managed Service for Prometheus workspace endpoint: the Prometheus data source of deploy/grafana/tally.json."
  value       = aws_prometheus_workspace.this.prometheus_endpoint
}

output "log_group" {
  description = "CloudWatch Logs group of the tasks (streams tally/... and adot/...)."
  value       = aws_cloudwatch_log_group.tally.name
}

output "lag_alarm" {
  description = "CloudWatch alarm on total consumer lag."
  value       = aws_cloudwatch_metric_alarm.lag.alarm_name
}
