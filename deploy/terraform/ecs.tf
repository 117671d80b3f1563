# The tally service on ECS Fargate: one tally process per task, the tasks of the
# service share the input partitions as one Kafka consumer group (one job).
# Fargate rather than EKS: tally is one binary with no cluster of its own to run,
# needs no node pool, DaemonSet or operator, and its only scaling signal (lag) is
# a CloudWatch metric that Application Auto Scaling reads directly; EKS would add
# a control plane (about 73 USD a month), nodes to patch, and KEDA for the same
# lag-driven scaling. Choose EKS where a cluster already exists: deploy/compose.yaml
# shows the same topology as containers.

locals {
  state_dir = "/var/lib/tally"
  http      = "127.0.0.1:9400" # sidecar and health check are in the task: nothing listens outside it

  kafka_password_from = var.kafka_sasl_secret_json_key == "" ? var.kafka_sasl_secret_arn : "${var.kafka_sasl_secret_arn}:${var.kafka_sasl_secret_json_key}::"

  tally_command = concat(
    [
      "run",
      "--source", "kafka://${local.kafka_bootstrap}/${var.input_topic}",
      "--sink", "cassandra://${local.keyspaces_host}:9142/${var.keyspace_name}.${var.table_name}",
      "--cassandra-tls",
      # Keyspaces' replication class, should tally's CREATE KEYSPACE IF NOT EXISTS ever create it.
      "--cassandra-replication", "{'class': 'SingleRegionStrategy'}",
      "--group", local.kafka_group,
      "--state-dir", "${local.state_dir}/state",
      "--http", local.http,
      "--kafka", "security.protocol=SASL_SSL",
      "--kafka", "sasl.mechanism=${var.kafka_sasl_mechanism}",
      "--kafka", "sasl.username=${var.kafka_sasl_username}",
    ],
    var.input_keyed_by_user ? ["--input-keyed-by-user"] : [],
    # IAM (SigV4) with the task role unless service-specific credentials are given.
    var.keyspaces_credentials_secret_arn == null ? ["--cassandra-auth", "sigv4", "--aws-region", var.region] : ["--cassandra-username", var.keyspaces_username],
    var.tally_extra_args,
  )

  # Secrets reach the container as environment variables that ECS reads from
  # Secrets Manager at each start: only their ARNs are in the task definition.
  tally_secrets = concat(
    [{ name = "TALLY_KAFKA_SASL_PASSWORD", valueFrom = local.kafka_password_from }],
    var.keyspaces_credentials_secret_arn == null ? [] : [{ name = "TALLY_CASSANDRA_PASSWORD", valueFrom = var.keyspaces_credentials_secret_arn }],
  )
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    # Container Insights publishes RunningTaskCount, the divisor of the lag per task.
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_security_group" "tally" {
  name        = "${var.name}-tasks"
  description = "tally tasks: no ingress (metrics are scraped inside the task); egress to Kafka, Keyspaces and AWS APIs"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "tally_https" {
  security_group_id = aws_security_group.tally.id
  description       = "AWS APIs: ECR, CloudWatch Logs, Secrets Manager, AMP remote write"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "tally_keyspaces" {
  security_group_id = aws_security_group.tally.id
  description       = "Amazon Keyspaces, CQL over TLS"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 9142
  to_port           = 9142
}

resource "aws_vpc_security_group_egress_rule" "tally_msk" {
  count = var.create_msk_cluster ? 1 : 0

  security_group_id            = aws_security_group.tally.id
  description                  = "MSK brokers, SASL_SSL (SCRAM)"
  referenced_security_group_id = aws_security_group.msk[0].id
  ip_protocol                  = "tcp"
  from_port                    = 9096
  to_port                      = 9096
}

resource "aws_vpc_security_group_egress_rule" "tally_kafka" {
  for_each = var.create_msk_cluster ? toset([]) : toset(var.kafka_cidr_blocks)

  security_group_id = aws_security_group.tally.id
  description       = "Existing Kafka cluster's brokers"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 9092
  to_port           = 9098
}

resource "aws_ecs_task_definition" "tally" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  ephemeral_storage {
    size_in_gib = var.task_ephemeral_storage_gb
  }

  # The task's storage for --state-dir (RocksDB): the root file system stays read-only.
  volume {
    name = "state"
  }

  container_definitions = jsonencode([
    {
      name                   = "tally"
      image                  = var.image
      essential              = true
      command                = local.tally_command
      secrets                = local.tally_secrets
      readonlyRootFilesystem = true
      mountPoints            = [{ sourceVolume = "state", containerPath = local.state_dir, readOnly = false }]
      # SIGTERM: tally finishes the trigger, commits and exits 0; give it the most Fargate allows.
      stopTimeout = 120
      healthCheck = {
        command     = ["CMD", "/usr/local/bin/tally-healthcheck"]
        interval    = 15
        timeout     = 3
        retries     = 3
        startPeriod = 60
      }
      environment = [{ name = "TALLY_HEALTHCHECK_ADDRESS", value = local.http }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.tally.name
          "awslogs-region"        = var.region
          "awslogs-stream-prefix" = "tally"
        }
      }
    },
    {
      # Not essential: losing the metrics pipeline must not stop the counting.
      # Its absence shows as missing lag data, which the lag alarm treats as breaching.
      name                   = "adot-collector"
      image                  = var.adot_collector_image
      essential              = false
      readonlyRootFilesystem = true
      environment            = [{ name = "AOT_CONFIG_CONTENT", value = local.adot_config }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.tally.name
          "awslogs-region"        = var.region
          "awslogs-stream-prefix" = "adot"
        }
      }
    },
  ])
}

resource "aws_ecs_service" "tally" {
  name             = var.name
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.tally.arn
  desired_count    = var.tasks.min
  launch_type      = "FARGATE"
  platform_version = "LATEST"
  propagate_tags   = "SERVICE"

  # A rolling deployment adds the new tasks before it stops old ones, so the
  # group rebalances onto them; stopping first would leave partitions idle.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tally.id]
    assign_public_ip = false
  }

  lifecycle {
    # The lag autoscaling owns the task count after the first apply.
    ignore_changes = [desired_count]
  }
}
