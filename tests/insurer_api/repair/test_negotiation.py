"""Negotiation and Evaluation rules: pure functions, exact figures."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurer_api.repair import (
    Candidate,
    EscrowEvent,
    EscrowEventKind,
    Ineligibility,
    InvoiceTooHighError,
    TrackRecord,
    is_senior,
    negotiate,
    service_matches,
    split_payout,
    track_records,
)

A = "NAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
B = "NBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
C = "NCcccccccccccccccccccccccccccccccc"


def _cand(
    shop_id: int, address: str, services: tuple[str, ...] = ("dtc:P03*",), capacity: int = 2, open_jobs: int = 0
) -> Candidate:
    return Candidate(shop_id, address, services, capacity, open_jobs)


def _events(shop: str, ok: int, failed: int, first_job: int = 0) -> list[EscrowEvent]:
    out = []
    for i in range(ok + failed):
        kind = EscrowEventKind.RELEASED if i < ok else EscrowEventKind.REFUNDED
        job = f"{shop}-{first_job + i}"
        out += [EscrowEvent(EscrowEventKind.LOCKED, job, shop, i), EscrowEvent(kind, job, shop, i + 1)]
    return out


def test_track_records_count_settlements_only_and_respect_the_block_cut() -> None:
    events = [*_events(A, 3, 1), EscrowEvent(EscrowEventKind.LOCKED, "open", A, 50)]
    assert track_records(events) == {A: TrackRecord(jobs=4, successes=3)}
    assert track_records(events, up_to_block=2) == {A: TrackRecord(jobs=2, successes=2)}


def test_prior_keeps_one_lucky_job_below_a_long_good_record() -> None:
    lucky, steady = TrackRecord(1, 1), TrackRecord(30, 28)
    assert lucky.smoothed_rate == Fraction(2, 3)
    assert steady.smoothed_rate == Fraction(29, 32)
    result = negotiate(
        service="dtc:P0301",
        authorised_amount=100,
        insurer_balance=100,
        candidates=[_cand(1, A), _cand(2, B)],
        records={A: lucky, B: steady},
    )
    assert result.winner is not None and result.winner.candidate.neo_address == B


def test_ties_break_on_jobs_then_address() -> None:
    records = {A: TrackRecord(8, 7), B: TrackRecord(16, 15), C: TrackRecord(8, 7)}
    # A: 8/10, B: 16/18 (better), C: 8/10 (same as A)
    result = negotiate(
        service="dtc:P0301",
        authorised_amount=1,
        insurer_balance=1,
        candidates=[_cand(3, C), _cand(1, A), _cand(2, B)],
        records=records,
    )
    assert [r.candidate.neo_address for r in result.ranking] == [B, A, C]
    same_rate = {A: TrackRecord(0, 0), B: TrackRecord(2, 1)}  # both 1/2: more jobs first
    result = negotiate(
        service="dtc:P0301",
        authorised_amount=1,
        insurer_balance=1,
        candidates=[_cand(1, A), _cand(2, B)],
        records=same_rate,
    )
    assert [r.candidate.neo_address for r in result.ranking] == [B, A]


def test_ineligible_shops_rank_last_with_their_reasons() -> None:
    cands = [_cand(1, A, services=("body",)), _cand(2, B, capacity=1, open_jobs=1), _cand(3, C)]
    result = negotiate(
        service="dtc:P0301",
        authorised_amount=10,
        insurer_balance=10,
        candidates=cands,
        records={A: TrackRecord(50, 50), B: TrackRecord(50, 50)},
    )
    assert result.winner is not None and result.winner.candidate.neo_address == C
    assert {r.candidate.neo_address: r.excluded for r in result.ranking} == {
        A: (Ineligibility.SERVICE,),
        B: (Ineligibility.CAPACITY,),
        C: (),
    }
    broke = negotiate(
        service="dtc:P0301", authorised_amount=11, insurer_balance=10, candidates=[_cand(3, C)], records={}
    )
    assert broke.winner is None and broke.ranking[0].excluded == (Ineligibility.FUNDS,)


@pytest.mark.parametrize(
    ("offered", "service", "match"),
    [
        ("dtc:P03*", "dtc:P0301", True),
        ("dtc:*", "dtc:C1234", True),
        ("body", "body", True),
        ("body", "bodywork", False),
        ("dtc:P03*", "dtc:P0420", False),
        ("dtc:P0301", "dtc:P0301", True),
    ],
)
def test_service_patterns(offered: str, service: str, match: bool) -> None:
    assert service_matches(offered, service) is match


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
)
def test_choice_does_not_depend_on_input_order(raw: list[tuple[int, int]], rnd: object) -> None:
    addresses = [f"N{i:033d}" for i in range(len(raw))]
    records = {a: TrackRecord(j + s, s) for a, (j, s) in zip(addresses, raw, strict=True)}
    cands = [_cand(i, a) for i, a in enumerate(addresses)]
    first = negotiate(service="dtc:P0301", authorised_amount=1, insurer_balance=1, candidates=cands, records=records)
    shuffled = list(cands)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    second = negotiate(
        service="dtc:P0301", authorised_amount=1, insurer_balance=1, candidates=shuffled, records=records
    )
    assert first.ranking == second.ranking


def test_split_for_new_and_senior_shops() -> None:
    new = split_payout(invoice_amount=1_000_00000001, authorised_amount=1_500_00000000, record=TrackRecord(19, 19))
    assert (new.senior, new.shop_amount, new.royalty_amount, new.insurer_refund) == (
        False,
        900_00000000,
        100_00000001,
        499_99999999,
    )
    senior = split_payout(invoice_amount=1_000_00000000, authorised_amount=1_000_00000000, record=TrackRecord(20, 18))
    assert (senior.senior, senior.shop_amount, senior.royalty_amount, senior.insurer_refund) == (
        True,
        950_00000000,
        50_00000000,
        0,
    )
    assert not is_senior(TrackRecord(40, 35))  # 87.5 %
    assert new.total == 1_500_00000000 and senior.total == 1_000_00000000


def test_invoice_above_authorisation_is_refused() -> None:
    with pytest.raises(InvoiceTooHighError, match="above the authorised amount"):
        split_payout(invoice_amount=101, authorised_amount=100, record=TrackRecord())
    with pytest.raises(InvoiceTooHighError, match="positive"):
        split_payout(invoice_amount=0, authorised_amount=100, record=TrackRecord())
