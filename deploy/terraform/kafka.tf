# The Kafka side: an MSK cluster made here (SASL/SCRAM over TLS, the job's user
# and password from Secrets Manager), or an existing cluster's bootstrap address.
#
# Settings the job needs of the brokers (docs/fault-tolerance.md, "What you must
# configure"): transactions (exactly once) with a transaction log of RF 3 and
# min ISR 2, and no automatic topic creation: tally creates its internal topics
# itself, with the settings it checks at every start:
#   GROUP-TOPIC-changelog    cleanup.policy=compact, one partition per input partition (the task state)
#   GROUP-TOPIC-settings     cleanup.policy=compact, 1 partition (the job's settings, compared at start)
#   GROUP-TOPIC-repartition  cleanup.policy=delete, retention.ms=-1 (only without --input-keyed-by-user)
#   TOPIC.dead-letters       the broker's defaults below (the dead letters, read_committed)
# The input topic is the producer's; give it retention longer than the longest
# outage you want to replay, and create it with input_partitions partitions.

locals {
  kafka_bootstrap = var.create_msk_cluster ? aws_msk_cluster.this[0].bootstrap_brokers_sasl_scram : var.kafka_bootstrap_servers
  kafka_group     = var.kafka_group != "" ? var.kafka_group : var.name
}

resource "aws_security_group" "msk" {
  count = var.create_msk_cluster ? 1 : 0

  name        = "${var.name}-msk"
  description = "MSK brokers of ${var.name}: SASL/SCRAM over TLS from the tally tasks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "msk_from_tally" {
  count = var.create_msk_cluster ? 1 : 0

  security_group_id            = aws_security_group.msk[0].id
  description                  = "SASL_SSL (SCRAM) from the tally tasks"
  referenced_security_group_id = aws_security_group.tally.id
  ip_protocol                  = "tcp"
  from_port                    = 9096
  to_port                      = 9096
}

resource "aws_msk_configuration" "this" {
  count = var.create_msk_cluster ? 1 : 0

  name           = "${var.name}-brokers"
  kafka_versions = [var.msk.kafka_version]

  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=3
    min.insync.replicas=2
    offsets.topic.replication.factor=3
    transaction.state.log.replication.factor=3
    transaction.state.log.min.isr=2
    unclean.leader.election.enable=false
    log.cleaner.enable=true
  PROPERTIES
}

resource "aws_cloudwatch_log_group" "msk" {
  count = var.create_msk_cluster ? 1 : 0

  name              = "/aws/msk/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.logs_kms_key_arn
}

resource "aws_msk_cluster" "this" {
  count = var.create_msk_cluster ? 1 : 0

  cluster_name           = var.name
  kafka_version          = var.msk.kafka_version
  number_of_broker_nodes = var.msk.brokers

  broker_node_group_info {
    instance_type   = var.msk.instance_type
    client_subnets  = var.private_subnet_ids
    security_groups = [aws_security_group.msk[0].id]
    storage_info {
      ebs_storage_info {
        volume_size = var.msk.volume_size_gb
      }
    }
    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this[0].arn
    revision = aws_msk_configuration.this[0].latest_revision
  }

  client_authentication {
    sasl {
      scram = true
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  enhanced_monitoring = "PER_TOPIC_PER_PARTITION"

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.msk[0].name
      }
    }
  }
}

# The job's SCRAM user: MSK reads the user name and password from the secret
# itself; Terraform only passes the ARN.
resource "aws_msk_scram_secret_association" "tally" {
  count = var.create_msk_cluster ? 1 : 0

  cluster_arn     = aws_msk_cluster.this[0].arn
  secret_arn_list = [var.kafka_sasl_secret_arn]
}
