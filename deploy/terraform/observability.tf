# Logs and metrics. tally serves /metrics on 127.0.0.1:9400 inside the task; an
# AWS Distro for OpenTelemetry collector sidecar scrapes it every 15 s and sends
#   - every series to Amazon Managed Service for Prometheus (AMP), which Grafana
#     (Amazon Managed Grafana or deploy/grafana/tally.json on any Grafana with AMP
#     as its Prometheus data source) reads; and
#   - the consumer lag, as CloudWatch embedded-metric-format log lines, to the
#     CloudWatch metric tally/tally_consumer_lag_records (dimension service),
#     which drives the service's autoscaling and the lag alarm (autoscaling.tf).

resource "aws_kms_key" "logs" {
  count = var.kms_key_arn == null ? 1 : 0

  description         = "${var.name}: CloudWatch Logs of the tally service"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.logs_key.json
}

data "aws_iam_policy_document" "logs_key" {
  # checkov:skip=CKV_AWS_109:A KMS key policy's resource is always "*" (the key itself); the account root keeps administration as AWS recommends.
  # checkov:skip=CKV_AWS_111:Same: "*" in a key policy means this key only.
  # checkov:skip=CKV_AWS_356:Same: "*" in a key policy means this key only.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
  statement {
    sid       = "CloudWatchLogsEncrypts"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${var.region}:${data.aws_caller_identity.current.account_id}:*"]
    }
  }
}

locals {
  logs_kms_key_arn = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.logs[0].arn
}

resource "aws_cloudwatch_log_group" "tally" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.logs_kms_key_arn
}

resource "aws_cloudwatch_log_group" "metrics" {
  # checkov:skip=CKV_AWS_338:These are the EMF lines the lag metric is extracted from; CloudWatch keeps the metric itself for 15 months, the raw lines are worth a week.
  name              = "/ecs/${var.name}/metrics"
  retention_in_days = 7
  kms_key_id        = local.logs_kms_key_arn
}

resource "aws_prometheus_workspace" "this" {
  alias       = var.name
  kms_key_arn = var.kms_key_arn
}

locals {
  lag_metric_namespace = "tally"
  lag_metric_name      = "tally_consumer_lag_records"

  adot_config = yamlencode({
    extensions = {
      sigv4auth = { region = var.region, service = "aps" }
    }
    receivers = {
      prometheus = {
        config = {
          global = { scrape_interval = "15s", scrape_timeout = "5s" }
          scrape_configs = [{
            job_name       = "tally"
            static_configs = [{ targets = ["127.0.0.1:9400"], labels = { service = var.name } }]
          }]
        }
      }
    }
    processors = {
      batch = {}
      "filter/lag" = {
        metrics = { include = { match_type = "strict", metric_names = [local.lag_metric_name] } }
      }
    }
    exporters = {
      prometheusremotewrite = {
        endpoint = "${aws_prometheus_workspace.this.prometheus_endpoint}api/v1/remote_write"
        auth     = { authenticator = "sigv4auth" }
      }
      awsemf = {
        region                  = var.region
        namespace               = local.lag_metric_namespace
        log_group_name          = aws_cloudwatch_log_group.metrics.name
        dimension_rollup_option = "NoDimensionRollup"
        metric_declarations = [{
          dimensions            = [["service"]]
          metric_name_selectors = [local.lag_metric_name]
        }]
      }
    }
    service = {
      extensions = ["sigv4auth"]
      pipelines = {
        "metrics/amp"        = { receivers = ["prometheus"], processors = ["batch"], exporters = ["prometheusremotewrite"] }
        "metrics/cloudwatch" = { receivers = ["prometheus"], processors = ["filter/lag", "batch"], exporters = ["awsemf"] }
      }
    }
  })
}
