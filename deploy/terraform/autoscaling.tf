# The service scales on consumer lag, not CPU: tally's CPU is small and steady
# (about 5 us per record, docs/scaling.md); what tells that it falls behind is
# the records between its committed offsets and the partitions' ends.
#
# Target tracking on "lag per running task": the CloudWatch metric
# tally/tally_consumer_lag_records (one data point per partition per scrape, from
# every task's sidecar, see observability.tf) averaged over the partitions, times
# the partition count = the job's total lag; divided by Container Insights'
# RunningTaskCount. More tasks drain a backlog faster, so the metric falls as
# capacity rises, which target tracking needs. (An input not keyed by learner is
# repartitioned: the metric then carries the input's and the repartition topic's
# partitions, and the total is approximate unless both have input_partitions.)
#
# Scaling in is slow on purpose: each change of membership makes the group
# rebalance, and the tasks that move restore their state (docs/scaling.md,
# "Restore time bounds failover"). More tasks than partitions would hold nothing,
# so the maximum is capped at the partition count.

locals {
  max_tasks = min(var.tasks.max, var.input_partitions)
  lag_total = "lag * ${var.input_partitions}"
}

resource "aws_appautoscaling_target" "tally" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.tally.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.tasks.min
  max_capacity       = local.max_tasks
}

resource "aws_appautoscaling_policy" "tally_lag" {
  name               = "${var.name}-consumer-lag"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.tally.service_namespace
  resource_id        = aws_appautoscaling_target.tally.resource_id
  scalable_dimension = aws_appautoscaling_target.tally.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.lag_target_per_task
    scale_out_cooldown = 120
    scale_in_cooldown  = 900

    customized_metric_specification {
      metrics {
        id          = "lag"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = local.lag_metric_namespace
            metric_name = local.lag_metric_name
            dimensions {
              name  = "service"
              value = var.name
            }
          }
        }
      }
      metrics {
        id          = "tasks"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"
            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.this.name
            }
            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.tally.name
            }
          }
        }
      }
      metrics {
        id          = "lag_per_task"
        label       = "consumer lag per running task (records)"
        expression  = "${local.lag_total} / tasks"
        return_data = true
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "lag" {
  alarm_name          = "${var.name}-consumer-lag"
  alarm_description   = "tally ${var.name}: total consumer lag above ${var.lag_alarm_threshold} records for 5 minutes, or no lag data (the job or its metrics sidecar is down)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.lag_alarm_threshold
  evaluation_periods  = 5
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
  ok_actions          = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]

  metric_query {
    id          = "lag"
    return_data = false
    metric {
      namespace   = local.lag_metric_namespace
      metric_name = local.lag_metric_name
      dimensions  = { service = var.name }
      period      = 60
      stat        = "Average"
    }
  }
  metric_query {
    id          = "total"
    label       = "total consumer lag (records)"
    expression  = local.lag_total
    return_data = true
  }
}
