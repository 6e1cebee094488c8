"""The sandbox's error tree: gateway answers raised as exceptions, admin API and config errors.

    SandboxError                    base of everything the sandbox raises on purpose
    ├── SandboxConfigError          bad arguments to create_sandbox_app / run_sandbox
    ├── AdminInputError             admin API: malformed JSON or values          → HTTP 400
    ├── RecordNotFoundError         admin API: a record that does not exist      → HTTP 404
    ├── QuerySyntaxError            readByQuery text the parser cannot read (becomes "Query Failed")
    └── IntacctFailure              an answer Intacct gives as an <errormessage>, by level:
        ├── ControlFailure          response/control failure (XL03000003 parse, XL03000006 sender)
        ├── AuthenticationFailure   operation/authentication failure (sign-in, invalid session)
        └── FunctionFailure         one result failure; sibling functions still run

`gateway.py` is the one place that turns an IntacctFailure into response XML. The messages never
contain a password or a session id.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IntacctError:
    """One <error> element: Intacct's four text fields (any may be empty)."""

    errorno: str
    description: str = ""
    description2: str = ""
    correction: str = ""


class SandboxError(Exception):
    """Base class of every error the sandbox raises on purpose."""


class SandboxConfigError(SandboxError):
    """The sandbox was created with arguments it cannot run with."""


class AdminInputError(SandboxError):
    """An admin API request carried malformed or invalid input (answered with HTTP 400)."""


class RecordNotFoundError(SandboxError):
    """An admin API request named a record that does not exist (answered with HTTP 404)."""


class QuerySyntaxError(SandboxError):
    """A readByQuery condition the tokenizer, parser or field checker refused."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.message = message
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{message}{where}")


class IntacctFailure(SandboxError):
    """An Intacct-shaped failure: the errors to put in the response's <errormessage>."""

    def __init__(self, *errors: IntacctError) -> None:
        if not errors:
            raise ValueError("an IntacctFailure needs at least one IntacctError")
        self.errors: tuple[IntacctError, ...] = errors
        super().__init__("; ".join(f"{e.errorno}: {e.description2 or e.description}" for e in errors))


class ControlFailure(IntacctFailure):
    """The request as a whole is refused (response/control/status = failure); nothing ran."""


class AuthenticationFailure(IntacctFailure):
    """The login or session is refused (operation/authentication/status = failure); nothing ran."""


class FunctionFailure(IntacctFailure):
    """One function failed (result/status = failure); the other functions of the request still ran."""
