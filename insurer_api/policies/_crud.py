"""Data access for product offerings and policies (keyword-only, never commits)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from insurer_api.access import get_visible, policy_visible, product_visible
from insurer_api.errors import ConflictError, InvalidRequestError, NotFoundError, PermissionDeniedError
from insurer_api.pagination import Page, Paged, by_id, paged
from insurer_api.policies._schemas import DefinitionPublic, PolicyCreate, ProductCreate
from models import Driver, Policy, PolicyStatus, Product, User, Vehicle
from scoring_service.errors import ProductError
from scoring_service.products import Product as Definition
from scoring_service.products import available_products, load_product

__all__ = [
    "accept_policy",
    "cancel_policy",
    "create_policy",
    "create_product",
    "get_definition",
    "get_policy",
    "get_product",
    "list_definitions",
    "list_policies",
    "list_products",
]


def get_definition(*, definition_id: str, version: int) -> Definition:
    """A shipped product definition; 422 when there is no such id and version."""
    try:
        return load_product(definition_id, version)
    except ProductError as exc:
        raise InvalidRequestError(f"no product definition {definition_id!r} version {version}: {exc}") from exc


def list_definitions() -> list[DefinitionPublic]:
    found = []
    for definition_id, version in sorted(available_products()):
        d = load_product(definition_id, version)
        found.append(
            DefinitionPublic(
                id=d.id,
                version=d.version,
                name=d.name,
                base_premium=d.pricing.base_premium,
                floor=d.pricing.floor,
                cap=d.pricing.cap,
            )
        )
    return found


def create_product(*, session: Session, insurer_id: int, data: ProductCreate) -> Product:
    definition = get_definition(definition_id=data.definition_id, version=data.definition_version)
    existing = session.scalar(
        select(Product.id).where(
            Product.insurer_id == insurer_id,
            Product.definition_id == definition.id,
            Product.definition_version == definition.version,
        )
    )
    if existing is not None:
        raise ConflictError(f"you already offer {definition.id} v{definition.version} (product {existing})")
    product = Product(
        insurer_id=insurer_id,
        definition_id=definition.id,
        definition_version=definition.version,
        name=data.name or definition.name,
    )
    session.add(product)
    session.flush()
    return product


def list_products(*, session: Session, viewer: User, page: Page) -> Paged[Product]:
    query = page.apply(select(Product).where(product_visible(viewer)), Product.id)
    return paged(session.scalars(query).all(), page, by_id)


def get_product(*, session: Session, viewer: User, product_id: int) -> Product:
    return get_visible(
        session=session, model=Product, object_id=product_id, visible=product_visible(viewer), kind="product"
    )


_LIVE = (PolicyStatus.QUOTED, PolicyStatus.ACTIVE)


def create_policy(*, session: Session, insurer: User, data: PolicyCreate) -> Policy:
    """A quote under one of the insurer's products for a driver's vehicle.

    At most one live (quoted or active) policy covers a vehicle on any day.
    """
    if insurer.insurer_id is None:
        raise PermissionDeniedError("only an insurer's account quotes policies")
    product = session.scalar(
        select(Product).where(Product.id == data.product_id, Product.insurer_id == insurer.insurer_id)
    )
    if product is None:
        raise NotFoundError.of("product", data.product_id)
    vehicle = session.scalar(
        select(Vehicle)
        .join(Driver, Vehicle.driver_id == Driver.id)
        .where(Driver.email == data.driver_email, Vehicle.vin == data.vin)
    )
    if vehicle is None:
        raise NotFoundError(f"no driver {data.driver_email} with a vehicle {data.vin}")
    overlapping = session.scalar(
        select(Policy.id).where(
            Policy.vehicle_id == vehicle.id,
            Policy.status.in_(_LIVE),
            Policy.period_start < data.period_end,
            data.period_start < Policy.period_end,
        )
    )
    if overlapping is not None:
        raise ConflictError(f"vehicle {data.vin} already has a live policy for part of that period")
    definition = get_definition(definition_id=product.definition_id, version=product.definition_version)
    policy = Policy(
        insurer_id=insurer.insurer_id,
        driver_id=vehicle.driver_id,
        vehicle_id=vehicle.id,
        product_id=definition.id,
        product_version=definition.version,
        period_start=data.period_start,
        period_end=data.period_end,
        base_premium=definition.pricing.base_premium,
        status=PolicyStatus.QUOTED,
    )
    session.add(policy)
    session.flush()
    return policy


def list_policies(*, session: Session, viewer: User, page: Page) -> Paged[Policy]:
    query = page.apply(select(Policy).where(policy_visible(viewer)), Policy.id)
    return paged(session.scalars(query).all(), page, by_id)


def get_policy(*, session: Session, viewer: User, policy_id: int) -> Policy:
    return get_visible(
        session=session, model=Policy, object_id=policy_id, visible=policy_visible(viewer), kind="policy"
    )


def accept_policy(*, session: Session, driver: User, policy_id: int) -> Policy:
    """The policy's own driver turns a quote into an active policy."""
    policy = get_policy(session=session, viewer=driver, policy_id=policy_id)
    if policy.status is not PolicyStatus.QUOTED:
        raise ConflictError(f"policy {policy_id} is {policy.status.value}; only a quoted policy can be accepted")
    policy.status = PolicyStatus.ACTIVE
    session.flush()
    return policy


def cancel_policy(*, session: Session, insurer: User, policy_id: int) -> Policy:
    """The insurer withdraws a quote or ends cover early; issued statements stay as they are."""
    policy = get_policy(session=session, viewer=insurer, policy_id=policy_id)
    if policy.status not in _LIVE:
        raise ConflictError(f"policy {policy_id} is already {policy.status.value}")
    policy.status = PolicyStatus.CANCELLED
    session.flush()
    return policy
