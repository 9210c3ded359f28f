"""What the PASE and CASE fuzz tests share (CPython, hypothesis): the decoder round trip and the three
decoder tests, payloads for a message sequence, the checks on every machine output, and the initiator's
random-sequence test.  A module calls the test builders and binds their results to ``test_*`` names."""

from hypothesis import given, strategies as st

from fuzzlib import batch, count, mutate, mutation
from micromatter.securechannel import handshake, opcodes, status
from micromatter.tlv import encode


def fields(message):
    return sorted((k, repr(v)) for k, v in message.__dict__.items())


def check_decode(name, decode, data, errors):
    """``decode(data)`` raises one of ``errors`` or gives a message that encodes back to the same fields."""
    try:
        message = decode(data)
    except errors as e:
        count(name, type(e).__name__)
        return
    assert fields(decode(message.encode())) == fields(message)
    count(name, "ok")


def decoder_tests(check, kinds, samples, settings):
    """The three decoder tests: ``check(name, kind, data)`` on random bytes, on TLV structures shaped like
    handshake messages, and on mutations of ``samples[kind]``."""
    kind = st.sampled_from(sorted(kinds, key=str))
    values = st.one_of(
        st.binary(max_size=80),
        st.sampled_from(sorted(samples.values())),
        st.integers(0, 1 << 33),
        st.integers(-5, 5),
        st.booleans(),
        st.none(),
        st.text(max_size=5),
    )
    nested = st.dictionaries(st.integers(0, 10), values, max_size=8)
    structs = st.dictionaries(st.integers(0, 10), st.one_of(values, nested), max_size=8)

    @settings
    @given(st.data())
    def test_decoders_on_random_bytes(data):
        for raw in data.draw(batch(st.binary(max_size=300))):
            check("test_decoders_on_random_bytes", data.draw(kind), raw)

    @settings
    @given(st.data())
    def test_decoders_on_tlv_structures(data):
        for value in data.draw(batch(structs)):
            check("test_decoders_on_tlv_structures", data.draw(kind), encode(value))

    @settings
    @given(st.data())
    def test_decoders_on_mutated_messages(data):
        for mutations in data.draw(batch(st.lists(mutation, min_size=1, max_size=4))):
            k = data.draw(kind)
            check("test_decoders_on_mutated_messages", k, mutate(samples[k], mutations))

    return test_decoders_on_random_bytes, test_decoders_on_tlv_structures, test_decoders_on_mutated_messages


def payloads(valid, fallback):
    """A strategy per opcode: its valid payload (``valid[fallback]`` if none), any valid one, a mutation,
    or random bytes."""

    def strategy(opcode):
        return st.one_of(
            st.just(valid.get(opcode, b"")),
            st.sampled_from(sorted(valid.values())),
            st.lists(mutation, min_size=1, max_size=3).map(lambda m: mutate(valid.get(opcode, valid[fallback]), m)),
            st.binary(max_size=80),
        )

    return strategy


def mutate_one(which, mutations):
    """A ``tamper`` for ``handshakekit.run``: the ``which``-th message in transit (from 0) gets ``mutations``."""
    sent = [0]

    def tamper(opcode, payload):
        sent[0] += 1
        return mutate(payload, mutations) if sent[0] - 1 == which else payload

    return tamper


def outcome(out):
    """A short label of an output for the case counts: what was sent and which events came."""
    label = "silent" if out.opcode is None else opcodes.name(out.opcode)
    for event in out.events:
        label += "+" + type(event).__name__
    return label


def check_output(out, decoders):
    """At most one well-formed message (everything we send decodes; a report's reliability is its own), and
    only handshake events."""
    assert isinstance(out, handshake.Output)
    if out.opcode is not None:
        assert isinstance(out.payload, bytes)
        if out.opcode == opcodes.STATUS_REPORT:
            assert out.reliable == status.StatusReport.decode(out.payload).reliable
        else:
            decoders[out.opcode](out.payload)
    for event in out.events:
        assert isinstance(event, (handshake.Established, handshake.Failed))


def initiator_test(make, opcode_choices, payload, decoders, settings):
    """The initiator's random-sequence test: ``make(flag)`` gives a fresh initiator (hypothesis picks the
    flag); after its start it gets random messages with time moving on: nothing escapes, every output is
    well formed, and it ends at most once, with no deadline left after."""
    steps = st.tuples(st.sampled_from(opcode_choices), st.integers(0, 30000)).flatmap(
        lambda t: st.tuples(st.just(t[0]), st.just(t[1]), payload(t[0])))

    @settings
    @given(st.lists(steps, min_size=1, max_size=8), st.booleans())
    def test_initiator_on_random_message_sequences(sequence, flag):
        i = make(flag)
        check_output(i.start(0), decoders)
        now = 0
        ended = 0
        for opcode, advance, data in sequence:
            now += advance
            out = i.on_message(opcode, data, now)
            check_output(out, decoders)
            ended += len(out.events)
            if ended:
                assert i.next_deadline() is None
            count("test_initiator_on_random_message_sequences", outcome(out))
        assert ended <= 1

    return test_initiator_on_random_message_sequences
