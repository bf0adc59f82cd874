"""`/v1/product-definitions`, `/v1/products`, `/v1/policies`: what is sold and to whom."""

import structlog
from fastapi import APIRouter, Response

from insurer_api.deps import CurrentUser, ObjectId, SessionDep, require_role
from insurer_api.errors import PermissionDeniedError
from insurer_api.pagination import PageDep, respond
from insurer_api.policies._crud import (
    accept_policy,
    cancel_policy,
    create_policy,
    create_product,
    get_policy,
    get_product,
    list_definitions,
    list_policies,
    list_products,
)
from insurer_api.policies._schemas import DefinitionPublic, PolicyCreate, PolicyPublic, ProductCreate, ProductPublic
from models import Role

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["policies"])
_log = structlog.get_logger(__name__)

_READERS = require_role(Role.ADMIN, Role.INSURER, Role.DRIVER)
_INSURER = require_role(Role.INSURER)


@router.get(
    "/product-definitions",
    response_model=list[DefinitionPublic],
    dependencies=[_READERS],
    summary="Shipped product definitions and their pricing",
)
def get_definitions() -> list[DefinitionPublic]:
    return list_definitions()


@router.post(
    "/products", response_model=ProductPublic, status_code=201, dependencies=[_INSURER], summary="Offer a product"
)
def post_product(body: ProductCreate, user: CurrentUser, session: SessionDep) -> ProductPublic:
    if user.insurer_id is None:
        raise PermissionDeniedError("only an insurer's account offers products")
    product = create_product(session=session, insurer_id=user.insurer_id, data=body)
    session.commit()
    _log.info("product offered", product_id=product.id, insurer_id=user.insurer_id)
    return ProductPublic.model_validate(product)


@router.get("/products", response_model=list[ProductPublic], dependencies=[_READERS], summary="Products you may see")
def get_products(user: CurrentUser, session: SessionDep, page: PageDep, response: Response) -> list[ProductPublic]:
    result = list_products(session=session, viewer=user, page=page)
    return [ProductPublic.model_validate(p) for p in respond(response, page, result)]


@router.get("/products/{product_id}", response_model=ProductPublic, dependencies=[_READERS], summary="One product")
def get_one_product(product_id: ObjectId, user: CurrentUser, session: SessionDep) -> ProductPublic:
    return ProductPublic.model_validate(get_product(session=session, viewer=user, product_id=product_id))


@router.post(
    "/policies", response_model=PolicyPublic, status_code=201, dependencies=[_INSURER], summary="Quote a policy"
)
def post_policy(body: PolicyCreate, user: CurrentUser, session: SessionDep) -> PolicyPublic:
    policy = create_policy(session=session, insurer=user, data=body)
    session.commit()
    _log.info("policy quoted", policy_id=policy.id, insurer_id=user.insurer_id)
    return PolicyPublic.model_validate(policy)


@router.get("/policies", response_model=list[PolicyPublic], dependencies=[_READERS], summary="Policies you may see")
def get_policies(user: CurrentUser, session: SessionDep, page: PageDep, response: Response) -> list[PolicyPublic]:
    result = list_policies(session=session, viewer=user, page=page)
    return [PolicyPublic.model_validate(p) for p in respond(response, page, result)]


@router.get("/policies/{policy_id}", response_model=PolicyPublic, dependencies=[_READERS], summary="One policy")
def get_one_policy(policy_id: ObjectId, user: CurrentUser, session: SessionDep) -> PolicyPublic:
    return PolicyPublic.model_validate(get_policy(session=session, viewer=user, policy_id=policy_id))


@router.post(
    "/policies/{policy_id}/accept",
    response_model=PolicyPublic,
    dependencies=[require_role(Role.DRIVER)],
    summary="Accept a quote (the policy's driver)",
)
def post_accept(policy_id: ObjectId, user: CurrentUser, session: SessionDep) -> PolicyPublic:
    policy = accept_policy(session=session, driver=user, policy_id=policy_id)
    session.commit()
    _log.info("policy accepted", policy_id=policy.id)
    return PolicyPublic.model_validate(policy)


@router.post(
    "/policies/{policy_id}/cancel",
    response_model=PolicyPublic,
    dependencies=[_INSURER],
    summary="Cancel a quote or an active policy (the policy's insurer)",
)
def post_cancel(policy_id: ObjectId, user: CurrentUser, session: SessionDep) -> PolicyPublic:
    policy = cancel_policy(session=session, insurer=user, policy_id=policy_id)
    session.commit()
    _log.info("policy cancelled", policy_id=policy.id)
    return PolicyPublic.model_validate(policy)
