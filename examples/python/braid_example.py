#!/usr/bin/env python3
"""Braid from Python: a client generated from proto/ with grpcio.

    /usr/bin/python3 examples/python/braid_example.py --broker 127.0.0.1:7401

1. Checks every partitioning test vector of proto/testdata/ against a pure
   Python XXH64, Jump Consistent Hash, rendezvous hashing and worker slots
   (proto/PARTITIONING.md).
2. Creates a topic (AdminService/CreateTopic) and publishes keyed records
   (ProducerService/Publish) in batches, choosing each record's partition in
   Python with the jump hash; checks the broker's answer. A second topic gets
   the same keys *without* a partition, and the broker's choice must equal
   Python's.
3. Consumes them through ConsumerService/Subscribe (bidirectional stream)
   with credit and acks, and checks that every record arrived exactly where
   it was published, in per-key order, and never beyond the credit granted.

Exits 0 when all of it holds; otherwise prints what failed (gRPC status code
and details for RPC errors) and exits 1. Needs Debian's python3-grpcio and
python3-grpc-tools (`apt-get install -y python3-grpcio python3-grpc-tools`);
the stubs are generated into a temporary directory by generate.sh at start.
"""

import argparse
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VECTORS = os.path.join(ROOT, "proto", "testdata", "partitioning-vectors.json")

# --------------------------------------------------------------------------
# Partitioning, exactly as proto/PARTITIONING.md specifies (sections 2 to 6).
# --------------------------------------------------------------------------

MASK64 = (1 << 64) - 1
P1 = 0x9E3779B185EBCA87
P2 = 0xC2B2AE3D27D4EB4F
P3 = 0x165667B19E3779F9
P4 = 0x85EBCA77C2B2AE63
P5 = 0x27D4EB2F165667C5
SLOT_SEED = 0x736C6F74  # ASCII "slot"


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & MASK64


def _round(acc, lane):
    return (_rotl((acc + lane * P2) & MASK64, 31) * P1) & MASK64


def _merge(h, v):
    return (((h ^ _round(0, v)) * P1) + P4) & MASK64


def xxh64(data, seed=0):
    """XXH64 of `data` (bytes) with a u64 seed, as an int in 0 .. 2^64-1."""
    length = len(data)
    p = 0
    if length >= 32:
        v1 = (seed + P1 + P2) & MASK64
        v2 = (seed + P2) & MASK64
        v3 = seed & MASK64
        v4 = (seed - P1) & MASK64
        while p + 32 <= length:
            v1 = _round(v1, int.from_bytes(data[p:p + 8], "little"))
            v2 = _round(v2, int.from_bytes(data[p + 8:p + 16], "little"))
            v3 = _round(v3, int.from_bytes(data[p + 16:p + 24], "little"))
            v4 = _round(v4, int.from_bytes(data[p + 24:p + 32], "little"))
            p += 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & MASK64
        for v in (v1, v2, v3, v4):
            h = _merge(h, v)
    else:
        h = (seed + P5) & MASK64
    h = (h + length) & MASK64
    while p + 8 <= length:
        h ^= _round(0, int.from_bytes(data[p:p + 8], "little"))
        h = (_rotl(h, 27) * P1 + P4) & MASK64
        p += 8
    if p + 4 <= length:
        h ^= (int.from_bytes(data[p:p + 4], "little") * P1) & MASK64
        h = (_rotl(h, 23) * P2 + P3) & MASK64
        p += 4
    while p < length:
        h ^= (data[p] * P5) & MASK64
        h = (_rotl(h, 11) * P1) & MASK64
        p += 1
    h ^= h >> 33
    h = (h * P2) & MASK64
    h ^= h >> 29
    h = (h * P3) & MASK64
    h ^= h >> 32
    return h


def jump_hash(key, buckets):
    """Lamping & Veach, figure 1, with the double arithmetic in the paper's order."""
    if not isinstance(buckets, int) or not 1 <= buckets <= 2**31 - 1:
        raise ValueError(f"buckets must be in 1 .. 2^31-1 (got {buckets!r})")
    b, j = -1, 0
    key &= MASK64
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) & MASK64
        d = float(1 << 31) / float((key >> 33) + 1)  # first rounding
        j = int(float(b + 1) * d)  # second rounding, then truncation toward zero
    return b


def partition_for(key, partitions):
    """Partition of a keyed record: jump_hash(xxh64(key, 0), partitions)."""
    return jump_hash(xxh64(key), partitions)


def rendezvous_score(member, item):
    return xxh64(member.encode("utf-8") + b"\x00" + item)


def rendezvous_ranking(members, item):
    """Distinct members, highest score first; ties: smaller UTF-8 id first."""
    distinct = sorted(set(members), key=lambda m: m.encode("utf-8"))
    return sorted(distinct, key=lambda m: -rendezvous_score(m, item))  # stable sort keeps the tie order


def rendezvous_owner(members, item):
    ranking = rendezvous_ranking(members, item)
    return ranking[0] if ranking else None


def partition_item(topic, partition):
    return f"{topic}/{partition}".encode("utf-8")


def worker_slot(key, slots):
    return jump_hash(xxh64(key, SLOT_SEED), slots)


def check_vectors(path):
    """Checks every vector of the JSON file; returns (passed, total, failures)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    failures = []
    passed = total = 0

    def check(name, ok_list):
        nonlocal passed, total
        total += 1
        bad = [msg for ok, msg in ok_list if not ok]
        if bad:
            failures.append(f"{name}: " + "; ".join(bad))
        else:
            passed += 1

    counts = data["partitionCounts"]
    for v in data["keys"]:
        key = bytes.fromhex(v["keyHex"])
        h = xxh64(key)
        checks = [(f"{h:016x}" == v["xxh64"], f"xxh64 {h:016x} != {v['xxh64']}")]
        for n, want in zip(counts, v["partitions"], strict=True):
            got = partition_for(key, n)
            checks.append((got == want, f"P={n}: {got} != {want}"))
        check(f"key {v['description']}", checks)
    for v in data["jumpHash"]:
        got = jump_hash(int(v["hash"], 16), v["buckets"])
        check(f"jump {v['hash']}/{v['buckets']}", [(got == v["bucket"], f"{got} != {v['bucket']}")])
    for v in data["rendezvous"]:
        item = bytes.fromhex(v["itemHex"])
        checks = []
        for member, score in zip(v["members"], v["scores"], strict=True):
            got = rendezvous_score(member, item)
            checks.append((f"{got:016x}" == score, f"score({member}) {got:016x} != {score}"))
        owner = rendezvous_owner(v["members"], item)
        ranking = rendezvous_ranking(v["members"], item)
        checks.append((owner == v["owner"], f"owner {owner} != {v['owner']}"))
        checks.append((ranking == v["ranking"], f"ranking {ranking} != {v['ranking']}"))
        check(f"rendezvous {v['description']}", checks)
    seed = int(data["slots"]["seed"], 16)
    for v in data["slots"]["vectors"]:
        key = bytes.fromhex(v["keyHex"])
        h = xxh64(key, seed)
        got = jump_hash(h, v["slots"])
        check(
            f"slot {v['keyHex'] or '(empty)'}/{v['slots']}",
            [
                (seed == SLOT_SEED, f"seed {seed:x} != {SLOT_SEED:x}"),
                (f"{h:016x}" == v["xxh64Seeded"], f"xxh64 {h:016x} != {v['xxh64Seeded']}"),
                (got == v["slot"] and worker_slot(key, v["slots"]) == v["slot"], f"slot {got} != {v['slot']}"),
            ],
        )
    return passed, total, failures


# --------------------------------------------------------------------------
# The broker round trip.
# --------------------------------------------------------------------------


class Failure(Exception):
    """A check that did not hold."""


def generate_stubs():
    """Runs generate.sh into a temporary directory and puts it on sys.path."""
    out = tempfile.mkdtemp(prefix="braid-py-")
    result = subprocess.run(
        ["bash", os.path.join(HERE, "generate.sh"), out],
        env={**os.environ, "BRAID_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        shutil.rmtree(out, ignore_errors=True)
        raise Failure(f"generating stubs failed:\n{result.stdout}{result.stderr}")
    sys.path.insert(0, out)
    return out


def describe_rpc_error(error):
    """`CODE: details [braid-reason=...]` for a grpc.RpcError."""
    code = error.code() if hasattr(error, "code") else None
    details = error.details() if hasattr(error, "details") else str(error)
    text = f"{code.name if code else 'UNKNOWN'}: {details}"
    try:
        trailers = dict(error.trailing_metadata() or ())
    except Exception:  # not every RpcError carries trailers
        trailers = {}
    extra = [f"{k}={trailers[k]}" for k in ("braid-reason", "braid-retry-after-ms", "braid-leader") if k in trailers]
    return text + (f" [{', '.join(extra)}]" if extra else "")


def run_broker_checks(args):
    import grpc
    from braid.v1 import admin_pb2, admin_pb2_grpc, common_pb2, consumer_pb2, consumer_pb2_grpc
    from braid.v1 import producer_pb2, producer_pb2_grpc

    deadline = time.monotonic() + args.timeout

    def remaining():
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure(f"gave up after {args.timeout:g} s")
        return left

    channel = grpc.insecure_channel(args.broker)
    try:
        grpc.channel_ready_future(channel).result(timeout=min(10.0, remaining()))
    except grpc.FutureTimeoutError:
        raise Failure(f"cannot connect to broker {args.broker}") from None
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    producer = producer_pb2_grpc.ProducerServiceStub(channel)
    consumer = consumer_pb2_grpc.ConsumerServiceStub(channel)

    stamp = f"{int(time.time() * 1000)}-{random.randrange(16**6):06x}"
    topic = f"py-example-{stamp}"
    partitions = args.partitions
    created = admin.CreateTopic(
        admin_pb2.CreateTopicRequest(name=topic, config=common_pb2.TopicConfig(partitions=partitions)),
        timeout=remaining(),
    )
    print(f"created topic {created.topic.name} (id {created.topic.id}, {created.topic.config.partitions} partitions)")
    if created.topic.config.partitions != partitions:
        raise Failure(f"topic has {created.topic.config.partitions} partitions, asked for {partitions}")

    # ---- publish: partition chosen in Python --------------------------------
    keys = [f"user-{i:03d}".encode() for i in range(args.keys)]
    per_key = args.records // args.keys
    outgoing = [(key, seq) for seq in range(per_key) for key in keys]  # keys interleaved
    expected = {}  # (partition, offset) -> (key, seq)
    for start in range(0, len(outgoing), args.batch):
        chunk = outgoing[start:start + args.batch]
        records = [
            common_pb2.Record(
                key=key,
                value=json.dumps({"key": key.decode(), "seq": seq}).encode(),
                headers={"source": "python-example"},
                partition=partition_for(key, partitions),
            )
            for key, seq in chunk
        ]
        response = producer.Publish(producer_pb2.PublishRequest(topic=topic, records=records), timeout=remaining())
        if len(response.results) != len(records):
            raise Failure(f"Publish returned {len(response.results)} results for {len(records)} records")
        for (key, seq), record, result in zip(chunk, records, response.results, strict=True):
            if result.partition != record.partition:
                raise Failure(f"{key.decode()}#{seq}: sent to partition {record.partition}, broker says {result.partition}")
            if (result.partition, result.offset) in expected:
                raise Failure(f"offset {result.partition}:{result.offset} assigned twice")
            expected[(result.partition, result.offset)] = (key, seq)
    used = sorted({p for p, _ in expected})
    print(f"published {len(expected)} records ({len(keys)} keys x {per_key}) in batches of {args.batch}; partitions used {used}")

    # ---- the broker's own partitioner must agree with Python ----------------
    probe_topic = f"{topic}-keyonly"
    probe_partitions = args.probe_partitions
    admin.CreateTopic(
        admin_pb2.CreateTopicRequest(name=probe_topic, config=common_pb2.TopicConfig(partitions=probe_partitions)),
        timeout=remaining(),
    )
    response = producer.Publish(
        producer_pb2.PublishRequest(topic=probe_topic, records=[common_pb2.Record(key=k, value=b"probe") for k in keys]),
        timeout=remaining(),
    )
    disagree = [
        f"{k.decode()}: python {partition_for(k, probe_partitions)}, broker {r.partition}"
        for k, r in zip(keys, response.results, strict=True)
        if r.partition != partition_for(k, probe_partitions)
    ]
    if disagree or len(response.results) != len(keys):
        raise Failure("broker and Python disagree on key -> partition: " + "; ".join(disagree[:5]))
    print(f"broker partitioner agrees with Python for {len(keys)} key-only records over {probe_partitions} partitions")

    # ---- consume through Subscribe ------------------------------------------
    window = args.credit
    requests = queue.Queue()
    closed = object()

    def request_stream():
        # grpcio pulls requests from this generator on its own thread.
        while True:
            item = requests.get()
            if item is closed:
                return
            yield item

    subscription = f"py-sub-{stamp}"
    requests.put(
        consumer_pb2.SubscribeRequest(
            open=consumer_pb2.OpenRequest(
                topic=topic,
                subscription=subscription,
                member_id="python-example",
                create_if_missing=True,
                config=common_pb2.SubscriptionConfig(
                    mode=common_pb2.SUBSCRIPTION_MODE_PARTITIONED,
                    start_position=common_pb2.START_POSITION_EARLIEST,
                ),
                initial_credit=consumer_pb2.CreditRequest(records=window),
            )
        )
    )
    granted = window
    received = acked = 0
    max_unsettled = 0
    batches = 0
    duplicates = 0
    seen = set()
    next_seq = {key: 0 for key in keys}
    last_offset = {}
    stream = consumer.Subscribe(request_stream(), timeout=remaining())
    # The stream's deadline ends a hung consume; the watchdog cancels the
    # call so a broker that never answers cannot hold the process either.
    watchdog = threading.Timer(remaining() + 1, stream.cancel)
    watchdog.daemon = True
    watchdog.start()
    try:
        opened = False
        for response in stream:
            kind = response.WhichOneof("kind")
            if kind == "opened":
                opened = True
                o = response.opened
                print(
                    f"subscribed as {o.member_id} to {subscription}: partitions {sorted(o.partitions)}, "
                    f"mode {common_pb2.SubscriptionMode.Name(o.config.mode)}, "
                    f"start {common_pb2.StartPosition.Name(o.config.start_position)}"
                )
                # An existing subscription keeps its own settings: check what is in force.
                if o.config.mode != common_pb2.SUBSCRIPTION_MODE_PARTITIONED or o.config.start_position != common_pb2.START_POSITION_EARLIEST:
                    raise Failure(f"subscription settings in force are not PARTITIONED/EARLIEST: {o.config}")
                if sorted(o.partitions) != list(range(partitions)):
                    raise Failure(f"broker leads partitions {sorted(o.partitions)}, expected all of 0..{partitions - 1}")
                continue
            if not opened:
                raise Failure(f"first response was {kind!r}, not 'opened'")
            if kind == "error":
                e = response.error
                raise Failure(f"StreamError code {e.code}: {e.message} (reason {e.detail.reason or '-'})")
            if kind == "notice":
                n = response.notice
                print(f"notice {consumer_pb2.NoticeType.Name(n.type)}: {n.message}")
                continue
            if kind != "deliveries":
                raise Failure(f"unexpected response {response!r}")

            deliveries = response.deliveries.deliveries
            batches += 1
            received += len(deliveries)
            unsettled = received - acked
            max_unsettled = max(max_unsettled, unsettled)
            if received > granted:
                raise Failure(f"broker sent {received} records but only {granted} credits were granted")
            if unsettled > window:
                raise Failure(f"{unsettled} records unsettled, more than the credit window of {window}")
            ranges = {}
            for d in deliveries:
                r = d.record
                where = (r.partition, r.offset)
                if r.topic != topic:
                    raise Failure(f"delivery from topic {r.topic!r}")
                if where not in expected:
                    raise Failure(f"delivery {r.partition}:{r.offset} was never published")
                key, seq = expected[where]
                if not r.HasField("key") or r.key != key or json.loads(r.value) != {"key": key.decode(), "seq": seq}:
                    raise Failure(f"delivery {r.partition}:{r.offset} does not match what was published there")
                if r.partition != partition_for(r.key, partitions):
                    raise Failure(f"{key.decode()} delivered from partition {r.partition}, jump hash says {partition_for(r.key, partitions)}")
                if where in seen:
                    duplicates += 1  # at-least-once: a redelivery is not an order violation
                else:
                    seen.add(where)
                    if seq != next_seq[key]:
                        raise Failure(f"{key.decode()}: got seq {seq}, expected {next_seq[key]} (per-key order broken)")
                    next_seq[key] = seq + 1
                    if r.offset <= last_offset.get(r.partition, -1):
                        raise Failure(f"partition {r.partition}: offset {r.offset} after {last_offset[r.partition]}")
                    last_offset[r.partition] = r.offset
                # Coalesce contiguous offsets per partition into OffsetRanges.
                spans = ranges.setdefault(r.partition, [])
                if spans and spans[-1][1] + 1 == r.offset:
                    spans[-1][1] = r.offset
                else:
                    spans.append([r.offset, r.offset])
            ack = consumer_pb2.AckRequest(
                ranges=[common_pb2.OffsetRange(partition=p, first=a, last=b) for p, spans in sorted(ranges.items()) for a, b in spans]
            )
            requests.put(consumer_pb2.SubscribeRequest(ack=ack))
            acked += len(deliveries)
            if len(seen) >= len(expected):
                break
            # Top the credit up by what was just settled: the window stays fixed.
            requests.put(consumer_pb2.SubscribeRequest(credit=consumer_pb2.CreditRequest(records=len(deliveries))))
            granted += len(deliveries)
        else:
            raise Failure(f"stream ended after {len(seen)} of {len(expected)} records")
        # Half-close; the broker applies the last ack, then ends the stream.
        requests.put(closed)
        for response in stream:
            if response.WhichOneof("kind") == "error":
                e = response.error
                raise Failure(f"StreamError after the last ack, code {e.code}: {e.message}")
    except grpc.RpcError as error:
        raise Failure(f"Subscribe failed after {len(seen)} of {len(expected)} records: {describe_rpc_error(error)}") from None
    finally:
        watchdog.cancel()
        requests.put(closed)
        stream.cancel()

    missing = len(expected) - len(seen)
    if missing:
        raise Failure(f"{missing} records never arrived")
    bad_order = [k.decode() for k in keys if next_seq[k] != per_key]
    if bad_order:
        raise Failure(f"keys with missing records: {bad_order[:5]}")
    print(
        f"consumed {len(seen)} records in {batches} batches (credit window {window}, max unsettled {max_unsettled}, "
        f"duplicates {duplicates}); per-key order held for {len(keys)} keys"
    )

    # ---- the subscription's committed offsets reach the end --------------------
    lag = None
    while time.monotonic() < deadline:
        described = admin.DescribeSubscription(
            admin_pb2.DescribeSubscriptionRequest(topic=topic, name=subscription), timeout=remaining()
        )
        lag = sum(p.lag for p in described.partitions)
        if described.partitions and lag == 0:
            break
        time.sleep(0.1)
    if lag != 0:
        raise Failure(f"subscription {subscription} still reports lag {lag} after the acks")
    print(f"subscription {subscription}: lag 0 on {len(described.partitions)} partitions")
    channel.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", default=os.environ.get("BRAID_BROKER", "127.0.0.1:7401"), help="broker address host:port")
    parser.add_argument("--vectors", default=VECTORS, help="partitioning test vectors (JSON)")
    parser.add_argument("--partitions", type=int, default=4, help="partitions of the example topic")
    parser.add_argument("--probe-partitions", type=int, default=16, help="partitions of the key-only probe topic")
    parser.add_argument("--keys", type=int, default=100, help="distinct keys")
    parser.add_argument("--records", type=int, default=1000, help="records to publish (a multiple of --keys)")
    parser.add_argument("--batch", type=int, default=100, help="records per Publish")
    parser.add_argument("--credit", type=int, default=100, help="record credit window of the consumer")
    parser.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds")
    parser.add_argument("--vectors-only", action="store_true", help="check the vectors, skip the broker")
    args = parser.parse_args()
    if args.keys < 1 or args.records % args.keys:
        parser.error("--records must be a positive multiple of --keys")

    passed, total, failures = check_vectors(args.vectors)
    for failure in failures:
        print(f"vector mismatch: {failure}", file=sys.stderr)
    print(f"partitioning vectors: {passed}/{total} passed")
    if failures:
        return 1
    if args.vectors_only:
        return 0

    gen = None
    try:
        gen = generate_stubs()
        import grpc

        try:
            run_broker_checks(args)
        except grpc.RpcError as error:
            print(f"gRPC error: {describe_rpc_error(error)}", file=sys.stderr)
            return 1
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        if gen:
            shutil.rmtree(gen, ignore_errors=True)
    print("python example: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
