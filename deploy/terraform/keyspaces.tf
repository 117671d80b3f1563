# The counts table in Amazon Keyspaces, in the shape tally creates and checks at
# every start (src/sink/cassandra_sink.cc):
#   CREATE TABLE tally.daily_counts (user_uuid uuid, created_date date, event_count bigint,
#                                    PRIMARY KEY ((user_uuid), created_date))
# tally writes every row with `USING TIMESTAMP <count>` so that a replayed or
# zombie write never takes a count back: Keyspaces accepts that only with
# client-side timestamps enabled.

locals {
  provisioned      = var.keyspaces_capacity_mode == "PROVISIONED"
  keyspaces_host   = "cassandra.${var.region}.amazonaws.com"
  keyspaces_prefix = "arn:${data.aws_partition.current.partition}:cassandra:${var.region}:${data.aws_caller_identity.current.account_id}:/keyspace"
}

resource "aws_keyspaces_keyspace" "this" {
  name = var.keyspace_name
}

resource "aws_keyspaces_table" "daily_counts" {
  keyspace_name = aws_keyspaces_keyspace.this.name
  table_name    = var.table_name

  schema_definition {
    column {
      name = "user_uuid"
      type = "uuid"
    }
    column {
      name = "created_date"
      type = "date"
    }
    column {
      name = "event_count"
      type = "bigint"
    }
    partition_key {
      name = "user_uuid"
    }
    clustering_key {
      name     = "created_date"
      order_by = "ASC"
    }
  }

  capacity_specification {
    throughput_mode      = var.keyspaces_capacity_mode
    read_capacity_units  = local.provisioned ? var.keyspaces_read_capacity.min : null
    write_capacity_units = local.provisioned ? var.keyspaces_write_capacity.min : null
  }

  client_side_timestamps {
    status = "ENABLED"
  }

  point_in_time_recovery {
    status = "ENABLED"
  }

  encryption_specification {
    type               = var.kms_key_arn == null ? "AWS_OWNED_KMS_KEY" : "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_identifier = var.kms_key_arn
  }

  lifecycle {
    # Application autoscaling moves the provisioned capacity; a plan must not move it back.
    ignore_changes = [capacity_specification[0].read_capacity_units, capacity_specification[0].write_capacity_units]
  }
}

# Provisioned mode: application autoscaling of write and read capacity by target
# tracking on the table's utilisation, as the seed's Terraform had.
locals {
  keyspaces_scaling = local.provisioned ? {
    write = { dimension = "cassandra:table:WriteCapacityUnits", metric = "CassandraWriteCapacityUtilization", range = var.keyspaces_write_capacity }
    read  = { dimension = "cassandra:table:ReadCapacityUnits", metric = "CassandraReadCapacityUtilization", range = var.keyspaces_read_capacity }
  } : {}
}

resource "aws_appautoscaling_target" "keyspaces" {
  for_each = local.keyspaces_scaling

  service_namespace  = "cassandra"
  resource_id        = "keyspace/${aws_keyspaces_keyspace.this.name}/table/${aws_keyspaces_table.daily_counts.table_name}"
  scalable_dimension = each.value.dimension
  min_capacity       = each.value.range.min
  max_capacity       = each.value.range.max
}

resource "aws_appautoscaling_policy" "keyspaces" {
  for_each = local.keyspaces_scaling

  name               = "${var.name}-keyspaces-${each.key}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.keyspaces[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.keyspaces[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.keyspaces[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.keyspaces_target_utilization
    predefined_metric_specification {
      predefined_metric_type = each.value.metric
    }
  }
}
