"""The contract in ``schemas/`` as the runtime needs it: the catalog, and registering it.

:func:`load_catalog` reads every subject's history and routing; :func:`plan_registration`
checks that history against what a registry holds (with :func:`find_breaks`, the same rule
the CI gate applies) and puts what is missing into it. Services and tests register the
catalog at start-up with these; the schema tooling (``evp_codegen``) builds on them.
"""

from evp.contract.breaking import Break, find_breaks
from evp.contract.catalog import Catalog, Subject, SubjectVersion, load_catalog
from evp.contract.errors import CatalogInvalid, ContractError, RegistryRequestFailed
from evp.contract.findings import Finding, Severity
from evp.contract.registration import RegistrationPlan, RegistrationRefused, plan_registration

__all__ = [
    "Break",
    "Catalog",
    "CatalogInvalid",
    "ContractError",
    "Finding",
    "RegistrationPlan",
    "RegistrationRefused",
    "RegistryRequestFailed",
    "Severity",
    "Subject",
    "SubjectVersion",
    "find_breaks",
    "load_catalog",
    "plan_registration",
]
