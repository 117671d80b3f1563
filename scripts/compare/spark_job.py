"""The seed's PySpark query, for `make bench-compare` (scripts/bench-compare).

Counts each learner's distinct events per UTC day, as tally does:

  readStream (a Kafka topic, or a JSON-lines file for the file path)
  -> parse the JSON value (EventUUID, UserUUID, EventName, CreatedAt)
  -> withWatermark on the event time, 7 days (tally's default lateness)
  -> dropDuplicatesWithinWatermark on EventUUID
  -> groupBy learner and UTC day, count, outputMode update
  -> foreachBatch: each micro-batch's updated rows to CSV (batch-N/)

dropDuplicatesWithinWatermark and not dropDuplicates: tally's identity is the event id
alone, remembered while the first copy's event time is within the lateness
(SPEC.md, "Duplicate"). dropDuplicates("EventUUID") would keep every id forever;
dropDuplicates("EventUUID", "ts") would make the time part of the identity.

When the query has stopped, the job upserts the batches into the final table: for each
(learner, day) the count of the latest batch that wrote it (counts only grow, so that is
the greatest), one CSV file `user_uuid,created_date,event_count` (no header). That merge
runs in this Spark session, so it is part of the measured process tree.

CreatedAt is epoch seconds (tally generate --time-format epoch), so there is no time
zone to parse; the session time zone is UTC so the day is the UTC calendar day.

Usage:
  spark_job.py --source file:PATH|kafka://HOST:PORT/TOPIC --out DIR
               [--mode available-now|live] [--stop-file PATH] [--checkpoint DIR]
live: a 5 s processing-time trigger, stopped when --stop-file appears (after its
running micro-batch). available-now: trigger(availableNow=True), reads what the
source holds at the start and stops.
"""

import argparse
import os
import shutil
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType, LongType


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", choices=["available-now", "live"], default="available-now")
    ap.add_argument("--stop-file")
    ap.add_argument("--checkpoint")
    ap.add_argument("--ready-file", help="touched once the query has started")
    args = ap.parse_args()

    spark = (
        SparkSession.builder.appName("tally-compare")
        .master(os.environ.get("SPARK_MASTER", "local[*]"))
        .config("spark.sql.session.timeZone", "UTC")
        # the state of 2 cores' worth of tasks: Spark's default of 200 shuffle
        # partitions would mean 200 state stores per micro-batch on a 2-core machine
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")

    batches = os.path.join(args.out, "batches")
    checkpoint = args.checkpoint or os.path.join(args.out, "checkpoint")
    shutil.rmtree(args.out, ignore_errors=True)

    if args.source.startswith("kafka://"):
        hostport, topic = args.source[len("kafka://"):].split("/", 1)
        raw = (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", hostport)
            .option("subscribe", topic)
            .option("startingOffsets", "earliest")
            .load()
            .select(F.col("value").cast("string").alias("value"))
        )
    elif args.source.startswith("file:"):
        # a streaming file source reads directories: the file is alone in its own
        raw = spark.readStream.format("text").load(os.path.dirname(args.source[len("file:"):]))
    else:
        raise SystemExit(f"unknown source {args.source}")

    schema = StructType([
        StructField("EventUUID", StringType()),
        StructField("UserUUID", StringType()),
        StructField("EventName", StringType()),
        StructField("CreatedAt", LongType()),
    ])
    events = (
        raw.select(F.from_json("value", schema).alias("e"))
        .select("e.*")
        .withColumn("ts", F.timestamp_seconds("CreatedAt"))
    )
    counts = (
        events.withWatermark("ts", "7 days")
        .dropDuplicatesWithinWatermark(["EventUUID"])
        .groupBy(F.col("UserUUID").alias("user_uuid"), F.to_date("ts").alias("created_date"))
        .count()
        .withColumnRenamed("count", "event_count")
    )

    def write_batch(df, batch_id):
        df.write.mode("overwrite").csv(os.path.join(batches, f"batch={batch_id}"))

    writer = (
        counts.writeStream.outputMode("update")
        .foreachBatch(write_batch)
        .option("checkpointLocation", checkpoint)
    )
    if args.mode == "live":
        query = writer.trigger(processingTime="5 seconds").start()
        if args.ready_file:
            open(args.ready_file, "w").close()
        while query.isActive and not os.path.exists(args.stop_file):
            time.sleep(0.2)
        # let the running micro-batch finish, then stop: what it read is written
        while query.isActive and query.status.get("isTriggerActive"):
            time.sleep(0.1)
        query.stop()
    else:
        query = writer.trigger(availableNow=True).start()
        query.awaitTermination()
    if query.exception() is not None:
        raise SystemExit(f"query failed: {query.exception()}")

    # the upsert into the final table: the latest (= greatest) count of each row
    final = os.path.join(args.out, "final")
    written = (
        spark.read.schema("user_uuid string, created_date date, event_count long").csv(batches)
        if os.path.isdir(batches) else None
    )
    if written is None:
        open(os.path.join(args.out, "final.csv"), "w").close()
    else:
        (written.groupBy("user_uuid", "created_date").agg(F.max("event_count").alias("event_count"))
         .coalesce(1).write.mode("overwrite").csv(final))
        part = [f for f in os.listdir(final) if f.startswith("part-")]
        os.replace(os.path.join(final, part[0]), os.path.join(args.out, "final.csv"))
    spark.stop()


if __name__ == "__main__":
    main()
