# ---- where --------------------------------------------------------------------

variable "name" {
  description = "Name of this deployment: prefixes every resource, and is the Kafka consumer group (--group) unless kafka_group is set."
  type        = string
  default     = "tally"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: 2 to 31 lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "region" {
  description = "AWS region of everything (Keyspaces endpoint cassandra.<region>.amazonaws.com:9142)."
  type        = string
  default     = "eu-central-1"
}

variable "vpc_id" {
  description = "VPC of the tally tasks (and of the MSK cluster, if the module creates one)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (at least two AZs) for the tasks and MSK brokers; they reach AWS APIs through a NAT gateway or VPC endpoints (ECR, Logs, Secrets Manager, Keyspaces, APS, CloudWatch)."
  type        = list(string)
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

# ---- Amazon Keyspaces ---------------------------------------------------------

variable "keyspace_name" {
  description = "Keyspace of the counts table (--sink cassandra://.../KEYSPACE.TABLE)."
  type        = string
  default     = "tally"
}

variable "table_name" {
  description = "Table of the daily counts."
  type        = string
  default     = "daily_counts"
}

variable "keyspaces_capacity_mode" {
  description = "PROVISIONED (with application autoscaling of read and write capacity, as the seed had) or PAY_PER_REQUEST (on demand)."
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "PAY_PER_REQUEST"], var.keyspaces_capacity_mode)
    error_message = "keyspaces_capacity_mode: PROVISIONED or PAY_PER_REQUEST."
  }
}

variable "keyspaces_write_capacity" {
  description = "Provisioned mode: write capacity units, minimum and maximum of the autoscaling range. One tally row write is one WCU (docs/scaling.md: at most one per event per second)."
  type        = object({ min = number, max = number })
  default     = { min = 100, max = 5000 }
}

variable "keyspaces_read_capacity" {
  description = "Provisioned mode: read capacity units, minimum and maximum (tally itself only reads the schema; readers of the table are the rest)."
  type        = object({ min = number, max = number })
  default     = { min = 5, max = 500 }
}

variable "keyspaces_target_utilization" {
  description = "Provisioned mode: target utilisation (percent) of read and write capacity that application autoscaling keeps."
  type        = number
  default     = 70
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for Keyspaces, MSK at rest, the log group and the secrets' readers; null: Keyspaces and MSK use AWS-owned keys and the module creates a key for the log group."
  type        = string
  default     = null
}

# ---- Kafka --------------------------------------------------------------------

variable "create_msk_cluster" {
  description = "true: the module creates an MSK cluster (SASL/SCRAM over TLS); false: use an existing cluster given by kafka_bootstrap_servers."
  type        = bool
  default     = true
}

variable "msk" {
  description = "The MSK cluster the module creates: Kafka version, broker instance type, broker count (a multiple of the subnets' AZs) and EBS volume per broker in GiB."
  type = object({
    kafka_version  = string
    instance_type  = string
    brokers        = number
    volume_size_gb = number
  })
  default = {
    kafka_version  = "3.6.0"
    instance_type  = "kafka.m5.large"
    brokers        = 3
    volume_size_gb = 500
  }
}

variable "kafka_bootstrap_servers" {
  description = "Existing cluster (create_msk_cluster = false): bootstrap servers, HOST:PORT[,...], reachable from the private subnets over SASL_SSL."
  type        = string
  default     = ""
}

variable "kafka_cidr_blocks" {
  description = "Existing cluster: the CIDR blocks of its brokers, for the tasks' egress rule."
  type        = list(string)
  default     = []
}

variable "kafka_sasl_username" {
  description = "SASL/SCRAM user of the job (not a secret; its password is in the secret kafka_sasl_secret_arn)."
  type        = string
  default     = "tally"
}

variable "kafka_sasl_secret_arn" {
  description = "Secrets Manager secret holding the Kafka SASL password. With create_msk_cluster it must be the MSK SCRAM secret (name AmazonMSK_..., encrypted with a customer KMS key, JSON {\"username\",\"password\"}: its 'password' key is passed); else a secret whose value is the password or JSON with a 'password' key. Only its ARN reaches Terraform: the value never enters variables or state."
  type        = string
}

variable "kafka_sasl_mechanism" {
  description = "SCRAM-SHA-512 (MSK SCRAM) or PLAIN (Confluent Cloud and the like)."
  type        = string
  default     = "SCRAM-SHA-512"
}

variable "input_topic" {
  description = "Input topic (--source kafka://.../TOPIC)."
  type        = string
  default     = "babbel"
}

variable "input_partitions" {
  description = "Partitions of the input topic: the most tasks that can ever share the job (docs/scaling.md: 48 for 10k events/s); also the autoscaling maximum."
  type        = number
  default     = 12
}

variable "input_keyed_by_user" {
  description = "The producer keys every record by its UserUUID (--input-keyed-by-user); else tally repartitions first."
  type        = bool
  default     = true
}

variable "kafka_group" {
  description = "Kafka consumer group (--group); empty: var.name."
  type        = string
  default     = ""
}

# ---- the tally service --------------------------------------------------------

variable "image" {
  description = "tally's container image (built from deploy/Dockerfile and pushed to ECR), by digest for reproducible deployments."
  type        = string
}

variable "task_cpu" {
  description = "Fargate task CPU units (1024 = 1 vCPU) of one tally process, its sidecar included."
  type        = number
  default     = 4096
}

variable "task_memory" {
  description = "Fargate task memory, MiB. The dedup state is held in memory: docs/scaling.md gives 80 bytes per retained event per process at peak."
  type        = number
  default     = 30720
}

variable "task_ephemeral_storage_gb" {
  description = "Fargate ephemeral storage, GiB (21 to 200), for --state-dir (RocksDB, about 26 bytes per retained event, plan 2x)."
  type        = number
  default     = 100
}

variable "tasks" {
  description = "Tally processes: minimum and maximum of the lag autoscaling (the maximum is capped at input_partitions: a process beyond that holds no task)."
  type        = object({ min = number, max = number })
  default     = { min = 2, max = 12 }
}

variable "lag_target_per_task" {
  description = "Target of the lag autoscaling: consumer lag (records) per running task. A process counts about 200,000 records a second at most (docs/scaling.md), so 1,000,000 is a few seconds of catch-up."
  type        = number
  default     = 1000000
}

variable "lag_alarm_threshold" {
  description = "Records of total consumer lag over which the lag alarm fires (after 5 minutes)."
  type        = number
  default     = 10000000
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic the lag alarm notifies; null: no notification (the alarm still shows in the console)."
  type        = string
  default     = null
}

variable "secrets_kms_key_arn" {
  description = "Customer-managed KMS key that encrypts the secrets (MSK SCRAM secrets must use one): ECS may decrypt with it to read them; null when they use the AWS-managed key."
  type        = string
  default     = null
}

variable "keyspaces_credentials_secret_arn" {
  description = "Secrets Manager secret with Keyspaces service-specific credentials' password (TALLY_CASSANDRA_PASSWORD); null when tally signs with the task role (SigV4, see README)."
  type        = string
  default     = null
}

variable "keyspaces_username" {
  description = "Keyspaces service-specific credentials' user name (with keyspaces_credentials_secret_arn)."
  type        = string
  default     = ""
}

variable "tally_extra_args" {
  description = "More `tally run` flags, e.g. [\"--lateness\", \"3d\"]."
  type        = list(string)
  default     = []
}

variable "adot_collector_image" {
  description = "The AWS Distro for OpenTelemetry collector image, the sidecar that scrapes /metrics."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the tasks' logs."
  type        = number
  default     = 365
}

variable "kafka_sasl_secret_json_key" {
  description = "JSON key of the password inside kafka_sasl_secret_arn's value (MSK SCRAM secrets: password); empty: the whole value is the password."
  type        = string
  default     = "password"
}
