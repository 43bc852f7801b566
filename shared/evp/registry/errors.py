"""Errors of the schema registry, each carrying Confluent's HTTP status and error code.

The HTTP layer turns any :class:`RegistryError` into ``{"error_code": …, "message": …}``
with :attr:`~RegistryError.status`; the service raises them without knowing about HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from evp.errors import EvpError

if TYPE_CHECKING:
    from evp.schema.compatibility import CompatibilityResult

__all__ = [
    "CompatibilityNotConfiguredError",
    "ForbiddenError",
    "IdMismatchError",
    "IncompatibleSchemaError",
    "InvalidCompatibilityLevelError",
    "InvalidModeError",
    "InvalidSchemaError",
    "InvalidSettingError",
    "InvalidSubjectError",
    "InvalidVersionError",
    "MalformedRequestError",
    "ModeNotConfiguredError",
    "OperationNotPermittedError",
    "ReferenceExistsError",
    "RegistryError",
    "SchemaNotFoundError",
    "SchemaTooLargeError",
    "StoreError",
    "StoreTimeoutError",
    "SubjectNotFoundError",
    "SubjectNotSoftDeletedError",
    "SubjectSoftDeletedError",
    "UnauthorizedError",
    "UnprocessableRequestError",
    "VersionNotFoundError",
    "VersionNotSoftDeletedError",
    "VersionSoftDeletedError",
]


class RegistryError(EvpError):
    """Root of the registry's errors; ``error_code`` and ``status`` are Confluent's."""

    error_code: ClassVar[int] = 50001
    status: ClassVar[int] = 500
    public_message: ClassVar[str] = "Store error"
    """What a 5xx answer says instead of :attr:`message`, which may quote the database
    driver (SQL, constraint and host names): those details go to the server's log only."""

    def body(self, reference: str | None = None) -> dict[str, Any]:
        """The JSON body Confluent's registry answers with.

        A 5xx body carries :attr:`public_message` and, when given, the ``reference`` under
        which the server logged the full error.
        """
        if self.status < 500:
            return {"error_code": self.error_code, "message": self.message}
        message = self.public_message
        if reference is not None:
            message = f"{message} (reference {reference})"
        return {"error_code": self.error_code, "message": message}


class SubjectNotFoundError(RegistryError):
    error_code = 40401
    status = 404

    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' not found.", subject=subject)


class VersionNotFoundError(RegistryError):
    error_code = 40402
    status = 404

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(f"Version {version} not found.", subject=subject, version=version)


class SchemaNotFoundError(RegistryError):
    error_code = 40403
    status = 404

    def __init__(self, schema_id: int | str | None = None, *, subject: str | None = None) -> None:
        message = "Schema not found" if schema_id is None else f"Schema {schema_id} not found"
        super().__init__(message, schema_id=schema_id, subject=subject)


class SubjectSoftDeletedError(RegistryError):
    error_code = 40404
    status = 404

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"Subject '{subject}' was soft deleted. Set permanent=true to delete permanently",
            subject=subject,
        )


class SubjectNotSoftDeletedError(RegistryError):
    error_code = 40405
    status = 404

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"Subject '{subject}' was not deleted first before being permanently deleted",
            subject=subject,
        )


class VersionSoftDeletedError(RegistryError):
    error_code = 40406
    status = 404

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Subject '{subject}' Version {version} was soft deleted. "
            "Set permanent=true to delete permanently",
            subject=subject,
            version=version,
        )


class VersionNotSoftDeletedError(RegistryError):
    error_code = 40407
    status = 404

    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Subject '{subject}' Version {version} was not deleted first "
            "before being permanently deleted",
            subject=subject,
            version=version,
        )


class CompatibilityNotConfiguredError(RegistryError):
    error_code = 40408
    status = 404

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"Subject '{subject}' does not have subject-level compatibility configured",
            subject=subject,
        )


class ModeNotConfiguredError(RegistryError):
    error_code = 40409
    status = 404

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"Subject '{subject}' does not have subject-level mode configured", subject=subject
        )


class IncompatibleSchemaError(RegistryError):
    """The new schema breaks the subject's compatibility level; ``result`` says where."""

    error_code = 40901
    status = 409

    def __init__(self, subject: str, result: CompatibilityResult) -> None:
        details = ", ".join(result.messages())
        super().__init__(
            "Schema being registered is incompatible with an earlier schema for subject "
            f'"{subject}", details: [{details}]',
            subject=subject,
            level=str(result.level),
        )
        self.subject = subject
        self.result = result


class InvalidSchemaError(RegistryError):
    error_code = 42201
    status = 422

    def __init__(self, detail: str, *, subject: str | None = None) -> None:
        super().__init__(f"Invalid schema: {detail}", subject=subject)
        self.detail = detail


class InvalidVersionError(RegistryError):
    error_code = 42202
    status = 422

    def __init__(self, version: object) -> None:
        super().__init__(
            f"The specified version '{version}' is not a valid version id. "
            'Allowed values are between [1, 2^31-1] and the string "latest"',
            version=str(version),
        )


class InvalidCompatibilityLevelError(RegistryError):
    error_code = 42203
    status = 422

    def __init__(self, level: object) -> None:
        super().__init__(
            "Invalid compatibility level. Valid values are none, backward, forward, full, "
            "backward_transitive, forward_transitive, and full_transitive",
            level=str(level),
        )


class InvalidModeError(RegistryError):
    error_code = 42204
    status = 422

    def __init__(self, mode: object) -> None:
        super().__init__(
            "Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT.",
            mode=str(mode),
        )


class OperationNotPermittedError(RegistryError):
    error_code = 42205
    status = 422

    def __init__(self, reason: str, *, subject: str | None = None) -> None:
        super().__init__(reason, subject=subject)


class ReferenceExistsError(RegistryError):
    error_code = 42206
    status = 422

    def __init__(self, subject: str, version: int, referenced_by: list[int]) -> None:
        super().__init__(
            f"One or more references exist to the schema {{subject={subject}, version={version}}}",
            subject=subject,
            version=version,
            referenced_by=referenced_by,
        )


class IdMismatchError(RegistryError):
    error_code = 42207
    status = 422

    def __init__(self, subject: str, existing_id: int, requested_id: int) -> None:
        super().__init__(
            f"Schema already registered with id {existing_id} instead of input id {requested_id}",
            subject=subject,
            existing_id=existing_id,
            requested_id=requested_id,
        )


class InvalidSubjectError(RegistryError):
    error_code = 42208
    status = 422

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(f"The specified subject is not valid: {reason}", subject=subject)


class SchemaTooLargeError(RegistryError):
    error_code = 42209
    status = 422

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            "Register operation failed because schema is too large", size=size, limit=limit
        )


class StoreError(RegistryError):
    """The backing database failed; never caused by the request's content."""

    error_code = 50001
    status = 500
    public_message = "Store error"


class StoreTimeoutError(StoreError):
    """The backing database did not answer in time."""

    error_code = 50002
    public_message = "Operation timed out"


class MalformedRequestError(RegistryError):
    """The body is not JSON at all (Confluent answers 400 with code 400)."""

    error_code = 400
    status = 400


class UnprocessableRequestError(RegistryError):
    """The body is JSON of the wrong shape (Confluent answers 422 with code 422)."""

    error_code = 422
    status = 422


class UnauthorizedError(RegistryError):
    error_code = 40101
    status = 401

    def __init__(self) -> None:
        super().__init__("Unauthorized: valid credentials are required")


class ForbiddenError(RegistryError):
    error_code = 40301
    status = 403

    def __init__(self, user: str) -> None:
        super().__init__(f"User '{user}' is not allowed to change the registry", user=user)


class InvalidSettingError(RegistryError):
    """A server setting (flag or environment variable) has a value that cannot be used."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"invalid setting {key}: {reason}", key=key)
        self.key = key
