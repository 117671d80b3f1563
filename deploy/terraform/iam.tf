# Two roles. The execution role is ECS's (pull the image, write the logs, read
# the secrets into the container's environment at start); the task role is
# tally's own: write to the one table, read the schema, and publish its metrics.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

locals {
  secret_arns = compact([var.kafka_sasl_secret_arn, var.keyspaces_credentials_secret_arn])
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    sid       = "ReadTheJobsSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.secret_arns
  }
  dynamic "statement" {
    for_each = var.secrets_kms_key_arn == null ? [] : [var.secrets_kms_key_arn]
    content {
      sid       = "DecryptTheJobsSecrets"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${var.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "WriteTheCountsTable"
    actions   = ["cassandra:Modify", "cassandra:Select"]
    resources = [aws_keyspaces_table.daily_counts.arn]
  }
  # No cassandra:Create: tally reads the table's shape first and sends its
  # CREATE ... IF NOT EXISTS only for a table that is missing
  # (src/sink/cassandra_sink.cc); this module creates the table.
  # The schema check at every start reads system_schema.columns; the CQL
  # handshake reads system.local and system.peers.
  statement {
    sid       = "ReadTheSchema"
    actions   = ["cassandra:Select"]
    resources = ["${local.keyspaces_prefix}/system*"]
  }
  statement {
    sid       = "WriteMetricsToManagedPrometheus"
    actions   = ["aps:RemoteWrite"]
    resources = [aws_prometheus_workspace.this.arn]
  }
  statement {
    sid       = "WriteLagMetricToCloudWatch"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.metrics.arn}:*"]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "tally"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}
