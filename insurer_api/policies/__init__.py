"""Product offerings (from shipped product definitions) and policies."""

from insurer_api.policies._crud import (
    accept_policy,
    cancel_policy,
    create_policy,
    create_product,
    get_definition,
    get_policy,
    get_product,
    list_definitions,
    list_policies,
    list_products,
)
from insurer_api.policies._schemas import DefinitionPublic, PolicyCreate, PolicyPublic, ProductCreate, ProductPublic

__all__ = [
    "DefinitionPublic",
    "PolicyCreate",
    "PolicyPublic",
    "ProductCreate",
    "ProductPublic",
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
