"""The Flink SQL job of `make bench-compare` (scripts/bench-compare): tally's count in
Flink SQL, run by PyFlink (a local mini-cluster in this process's JVM).

  source (a JSON-lines file, or a Kafka topic)
  -> event time from CreatedAt (epoch seconds), watermark 7 days behind the newest
  -> window deduplication: the first row per (UTC day, EventUUID), in event time
  -> 1-day tumbling count per learner
  -> one CSV table user_uuid,created_date,event_count

Same semantics as tally on this data: a duplicate re-sends its event verbatim, with
its CreatedAt (tally generate), so both copies fall in the same day window and the
window deduplication drops it as tally's id-within-lateness does. There are no late
records (the watermark trails by 7 days, tally's default lateness).

Always the streaming runtime, with a bounded source, so each window fires when the
source ends (the watermark jumps to the end of time) and the filesystem sink commits
at the final checkpoint:
  file:PATH                    the filesystem source (bounded by nature)
  kafka://HOST:PORT/TOPIC      Kafka from the earliest offset, bounded by
      --end-offset latest      the topic's end when the job starts (path b), or
      --end-offset N           offset N of partition 0 (path c: the records of a live
                               stream of known length, consumed while produced)
Checkpoints every 5 s (the sink's commit interval, like a 5 s trigger).

Usage: flink_job.py --source ... --out DIR [--end-offset latest|N] [--parallelism P]
"""

import argparse
import glob
import os
import shutil

from pyflink.table import EnvironmentSettings, TableEnvironment


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--end-offset", default="latest")
    ap.add_argument("--ready-file", help="touched once the job is submitted")
    ap.add_argument("--parallelism", default=os.environ.get("FLINK_PARALLELISM", "2"))
    args = ap.parse_args()

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = env.get_config()
    conf.set("parallelism.default", args.parallelism)
    conf.set("execution.checkpointing.interval", "5 s")
    # checkpoints to files: the JobManager's memory (the default storage) takes 5 MiB
    # of state at most, and the dedup state of 2M events is tens of MiB
    conf.set("execution.checkpointing.storage", "filesystem")
    conf.set("execution.checkpointing.dir", "file://" + os.path.abspath(os.path.join(args.out, "checkpoints")))
    # a failure ends the run (and is reported) instead of restarting it forever
    conf.set("restart-strategy.type", "none")
    conf.set("table.exec.source.idle-timeout", "5 s")
    # the Kafka connector jar (build/compare/flink-lib), fetched by scripts/bench-compare
    jars = sorted(glob.glob(os.path.join(os.environ["FLINK_CONNECTOR_DIR"], "*.jar")))
    conf.set("pipeline.jars", ";".join("file://" + j for j in jars))

    columns = """
        EventUUID STRING,
        UserUUID STRING,
        EventName STRING,
        CreatedAt BIGINT,
        ts AS TO_TIMESTAMP_LTZ(CreatedAt, 0),
        WATERMARK FOR ts AS ts - INTERVAL '7' DAY
    """
    if args.source.startswith("file:"):
        source = f"""
            'connector' = 'filesystem',
            'path' = '{args.source[len("file:"):]}',
            'format' = 'json'
        """
    elif args.source.startswith("kafka://"):
        hostport, topic = args.source[len("kafka://"):].split("/", 1)
        if args.end_offset == "latest":
            bound = "'scan.bounded.mode' = 'latest-offset'"
        else:
            bound = ("'scan.bounded.mode' = 'specific-offsets', "
                     f"'scan.bounded.specific-offsets' = 'partition:0,offset:{int(args.end_offset)}'")
        source = f"""
            'connector' = 'kafka',
            'topic' = '{topic}',
            'properties.bootstrap.servers' = '{hostport}',
            'properties.group.id' = 'flink-{topic}',
            'scan.startup.mode' = 'earliest-offset',
            {bound},
            'format' = 'json'
        """
    else:
        raise SystemExit(f"unknown source {args.source}")
    env.execute_sql(f"CREATE TABLE events ({columns}) WITH ({source})")

    shutil.rmtree(args.out, ignore_errors=True)
    table_dir = os.path.join(args.out, "table")
    env.execute_sql(f"""
        CREATE TABLE daily_counts (user_uuid STRING, created_date DATE, event_count BIGINT)
        WITH ('connector' = 'filesystem', 'path' = '{table_dir}', 'format' = 'csv')
    """)

    # the day of a TIMESTAMP_LTZ is the day in the session time zone: UTC
    conf.set("table.local-time-zone", "UTC")
    result = env.execute_sql("""
        INSERT INTO daily_counts
        SELECT UserUUID, CAST(window_start AS DATE), COUNT(*)
        FROM (
          SELECT *, ROW_NUMBER() OVER (
              PARTITION BY window_start, window_end, EventUUID ORDER BY ts ASC) AS rownum
          FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' DAY))
        )
        WHERE rownum = 1
        GROUP BY UserUUID, window_start, window_end
    """)
    if args.ready_file:
        open(args.ready_file, "w").close()
    result.wait()

    # one file, as the other engines write
    with open(os.path.join(args.out, "final.csv"), "wb") as final:
        for part in sorted(glob.glob(os.path.join(table_dir, "**", "part-*"), recursive=True)):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, final)


if __name__ == "__main__":
    main()
