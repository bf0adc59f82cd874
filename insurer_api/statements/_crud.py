"""Issuing and reading statements (keyword-only; `issue_statement` commits the statement itself)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from insurer_api.access import get_visible, statement_visible
from insurer_api.errors import ConflictError, InvalidRequestError
from insurer_api.pagination import Page, Paged, paged
from insurer_api.policies import get_definition, get_policy
from insurer_api.statements._compute import (
    compute_statement,
    document_sha256,
    driver_score_document,
    month_window,
    statement_document,
)
from models import Insurer, Payment, PolicyStatus, Statement, StatementScore, TripScore, User
from protocol import RecordType, canonical_json
from scoring_service.anchoring import build_proof, build_proofs, commit_record
from scoring_service.risk import RiskModel

__all__ = [
    "UsedScore",
    "get_statement",
    "issue_statement",
    "list_statements",
    "parse_period",
    "payment_of",
    "score_refs",
    "statement_document_of",
]

_BILLABLE = (PolicyStatus.ACTIVE, PolicyStatus.ENDED)


def parse_period(period: str) -> date:
    year, month = period.split("-")
    return date(int(year), int(month), 1)


def issue_statement(
    *, session: Session, issuer: User, policy_id: int, month: date, model: RiskModel | None, now: datetime | None = None
) -> tuple[Statement, bool]:
    """The statement of `policy_id` for `month`, and whether it was created now.

    A month is billed once: asking again returns the stored statement unchanged (its premium was
    fixed when issued, whatever trips arrive later). The statement and its anchoring commitment
    are written in one transaction.
    """
    policy = get_policy(session=session, viewer=issuer, policy_id=policy_id)
    existing = session.scalar(
        select(Statement).where(Statement.policy_id == policy.id, Statement.period_start == month)
    )
    if existing is not None:
        return existing, False
    if policy.status not in _BILLABLE:
        raise ConflictError(f"policy {policy.id} is {policy.status.value}; only active or ended policies are billed")
    window = month_window(policy, month)
    if window is None:
        raise InvalidRequestError(
            f"policy {policy.id} does not cover {month:%Y-%m} (it runs {policy.period_start} to {policy.period_end})"
        )
    today = (now or datetime.now(UTC)).date()
    if window[1] > today:
        raise InvalidRequestError(f"{month:%Y-%m} has not ended yet for policy {policy.id}: bill it after {window[1]}")
    if model is None:
        raise ConflictError("no risk model is installed: train one with `neot model train`")
    product = get_definition(definition_id=policy.product_id, version=policy.product_version)
    insurer = session.get_one(Insurer, policy.insurer_id)
    draft = compute_statement(session=session, policy=policy, month=month, window=window, product=product, model=model)
    document = statement_document(draft, insurer_address=insurer.neo_address)
    statement = Statement(
        policy_id=policy.id,
        period_start=month,
        period_end=window[1],
        distance_m=draft.totals.distance_m,
        trip_count=draft.trip_count,
        driver_score=draft.driver_score,
        risk_factor=str(draft.premium.factor),
        model_version=draft.premium.model_version,
        model_sha256=draft.premium.model_sha256,
        base_premium=draft.premium.base_premium,
        premium=draft.premium.amount,
        statement_sha256=document_sha256(document),
        scores=[StatementScore(trip_score_id=score_id) for score_id in draft.trip_score_ids],
    )
    try:
        session.add(statement)
        session.flush()
        commit_record(session, record_type=RecordType.PREMIUM_STATEMENT, record_id=statement.id, record=document)
        score = driver_score_document(draft, driver_id=policy.driver_id)
        if score is not None:  # the month's driver score is provable on its own, under the statement's id
            commit_record(session, record_type=RecordType.DRIVER_SCORE, record_id=statement.id, record=score)
        session.commit()
    except IntegrityError:
        # a concurrent request billed the same month first: that statement stands
        session.rollback()
        winner = session.scalar(
            select(Statement).where(Statement.policy_id == policy.id, Statement.period_start == month)
        )
        if winner is None:
            raise
        return winner, False
    return statement, True


def statement_document_of(*, session: Session, statement: Statement) -> bytes:
    """The canonical document whose SHA-256 the statement carries (as committed for anchoring)."""
    proof = build_proof(session, record_type=RecordType.PREMIUM_STATEMENT, record_id=statement.id)
    return canonical_json(proof.record)


def get_statement(*, session: Session, viewer: User, statement_id: int) -> Statement:
    return get_visible(
        session=session, model=Statement, object_id=statement_id, visible=statement_visible(viewer), kind="statement"
    )


def list_statements(*, session: Session, viewer: User, page: Page, policy_id: int | None = None) -> Paged[Statement]:
    """Statements the viewer may see, by policy and month."""
    query = select(Statement).where(statement_visible(viewer))
    if policy_id is not None:
        get_policy(session=session, viewer=viewer, policy_id=policy_id)
        query = query.where(Statement.policy_id == policy_id)
    rows = session.scalars(page.apply(query, Statement.policy_id, Statement.period_start)).all()
    return paged(rows, page, lambda s: (s.policy_id, s.period_start))


@dataclass(frozen=True, slots=True)
class UsedScore:
    """A trip score a statement used: ids, the score, and its proof document once committed."""

    score_id: int
    trip_id: int
    score: int
    proof: dict[str, object] | None


def score_refs(*, session: Session, statement: Statement, with_proofs: bool) -> list[UsedScore]:
    """The trip scores a statement used, in one query of plain columns (this is the hot read path:
    no ORM objects), and with `with_proofs` the proof documents of the committed ones in one more."""
    used = session.execute(
        select(TripScore.id, TripScore.trip_id, TripScore.score)
        .join(StatementScore, StatementScore.trip_score_id == TripScore.id)
        .where(StatementScore.statement_id == statement.id)
        .order_by(TripScore.id)
    ).all()
    proofs = {}
    if with_proofs:
        proofs = build_proofs(session, record_type=RecordType.TRIP_SCORE, record_ids=[row.id for row in used])
    out = []
    for score_id, trip_id, score in used:
        proof = proofs.get(score_id)
        out.append(UsedScore(score_id=score_id, trip_id=trip_id, score=score, proof=proof))
    return out


def payment_of(*, session: Session, statement: Statement) -> Payment | None:
    return None if statement.payment_id is None else session.get(Payment, statement.payment_id)
