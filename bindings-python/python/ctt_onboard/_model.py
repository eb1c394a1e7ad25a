"""The base of the generated model classes (``_generated.py``): behaviour written once for
every model (wire-named dicts, JSON, masked ``repr``, open enums), and the few models' own
methods, as base classes the generator names ``<Model>Methods``.
"""

from __future__ import annotations

import enum

from . import _native
from ._record import Field, Record

_set = object.__setattr__

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime
    from typing import Any, ClassVar, Optional

    from typing_extensions import Self

    from ._generated import AuthenticationResult


def _is_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, OpenEnum)


class OpenEnum(str, enum.Enum):
    """A ``str`` enum that keeps values it does not know."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_known(self) -> bool:
        """True when this version of the library knows the value."""
        return self._name_ in type(self).__members__


def model_field(
    wire: str,
    default: Any = None,
    *,
    required: bool = False,
    secret: bool = False,
    kind: Any = None,
) -> Any:
    """A model field: its wire name, whether it is required or a secret, and how to convert
    nested values. A list or dict default is copied for each instance."""
    if required:
        return Field(secret=secret, wire=wire, kind=kind)
    if isinstance(default, (list, dict)):
        return Field(default_factory=type(default), secret=secret, wire=wire, kind=kind)
    return Field(default, secret=secret, wire=wire, kind=kind)


def utc_from_ms(ms: Optional[int]) -> Optional[datetime.datetime]:
    """A time at the boundary (integer Unix milliseconds, core's ``wire_time``) as a UTC
    ``datetime``: the one place the binding converts one."""
    if ms is None:
        return None
    # Only the flow's results need datetime: clients never pay for importing it.
    import datetime

    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)


def _from_wire(kind: Any, value: Any) -> Any:
    if value is None or kind is None:
        return value
    if isinstance(kind, list):
        return [_from_wire(kind[0], v) for v in value]
    if isinstance(kind, type) and issubclass(kind, _Wire):
        return kind.from_dict(value)
    return kind(value)


def _to_wire(value: Any) -> Any:
    if isinstance(value, _Wire):
        return value.to_dict()
    if isinstance(value, list):
        return [_to_wire(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


class _Wire:
    """Shared behaviour of the models (mutable ``Model`` and frozen ``FrozenModel``): wire-named
    dicts, JSON; open enum fields given as strings become the enum. A mixin before ``Record``
    (mypy refuses a frozen dataclass under a mutable one)."""

    if TYPE_CHECKING:
        _fields_: ClassVar[tuple[Field, ...]]
        _post_init_: ClassVar[bool]

        @classmethod
        def _build(cls, attrs: dict[str, Any]) -> Self: ...

    #: True when unknown wire keys are kept in ``extra``.
    _KEEPS_EXTRA: ClassVar[bool] = False
    #: The fields without ``extra``: (name, wire name, kind, default, default factory).
    _plan_: ClassVar[tuple[tuple[str, str, Any, Any, Any], ...]] = ()
    #: The wire names of ``_plan_``.
    _known_: ClassVar[frozenset[str]] = frozenset()
    #: The fields holding an open enum (or a list of one), with it.
    _enums_: ClassVar[tuple[tuple[str, Any], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plan_ = tuple(
            (f.name, f.wire, f.kind, f.default, f.default_factory)
            for f in cls._fields_
            if f.name != "extra"
        )
        cls._known_ = frozenset(wire for _, wire, _, _, _ in cls._plan_)
        cls._enums_ = tuple(
            (name, kind)
            for name, _, kind, _, _ in cls._plan_
            if _is_enum(kind[0] if isinstance(kind, list) else kind)
        )
        if cls._enums_:
            cls._post_init_ = True

    def __post_init__(self) -> None:
        # object.__setattr__: also for the frozen models (the flow's results).
        for name, kind in self._enums_:
            value = getattr(self, name)
            if isinstance(kind, list):
                _set(self, name, [kind[0](v) for v in value] if value is not None else None)
            elif value is not None:
                _set(self, name, kind(value))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Builds the model from a dict with the wire's names; unknown keys go to ``extra``
        where the model keeps them, and are ignored otherwise."""
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__}.from_dict needs a dict, got {type(data).__name__}")
        attrs: dict[str, Any] = {}
        for name, wire, kind, default, factory in cls._plan_:
            if wire in data:
                value = data[wire]
                attrs[name] = value if kind is None else _from_wire(kind, value)
            else:
                attrs[name] = factory() if factory is not None else default
        if cls._KEEPS_EXTRA:
            known = cls._known_
            attrs["extra"] = {k: v for k, v in data.items() if k not in known}
        return cls._build(attrs)

    def to_dict(self) -> dict[str, Any]:
        """The model as a dict with the wire's names (``None`` values left out)."""
        out: dict[str, Any] = {}
        for name, wire, _kind, _default, _factory in self._plan_:
            value = getattr(self, name)
            if value is not None:
                out[wire] = _to_wire(value)
        if self._KEEPS_EXTRA:
            for k, v in getattr(self, "extra", {}).items():
                out.setdefault(k, v)
        return out

    # ``json`` (with ``re``) is imported by these two only: nothing else in the package needs
    # it, since models cross to the native layer as dicts.
    def to_json(self) -> str:
        """``to_dict()`` as JSON text."""
        import json

        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Self:
        """``from_dict()`` of JSON text."""
        import json

        return cls.from_dict(json.loads(text))

    __str__ = Record.__repr__


class Model(_Wire, Record):
    """The base of the generated models: wire-named dicts, JSON, masked repr, ``replace()``."""


class FrozenModel(_Wire, Record, frozen=True):
    """The base of the generated frozen models, the flow's results (read-only, hashable)."""


class NewEnterpriseMethods(Model):
    """``NewEnterprise``'s checks."""

    def validate(self) -> None:
        """Checks what the vendor requires before anything is sent; raises
        ``InvalidInputError`` naming the field."""
        _native.validate_enterprise(self.to_dict())


class AuthenticationResultMethods(Model):
    """``AuthenticationResult``'s tenant."""

    @property
    def tenant_id(self) -> Optional[str]:
        """The tenant id from ``user_info`` (core's ``AuthenticationResult::tenant_id``)."""
        return _native.auth_tenant_id(self.to_dict())


class CallbackPayloadMethods(Model):
    """``CallbackPayload``'s shortcuts."""

    @property
    def authentication_result(self) -> AuthenticationResult:
        """The MSAL result."""
        msal: Any = self.__dict__["msal_authentication_result"]
        result: AuthenticationResult = msal.authentication_result
        return result

    @property
    def tenant_id(self) -> Optional[str]:
        """The tenant id the admin signed in to (the core's rule:
        ``CallbackPayload::tenant_id``)."""
        return _native.callback_tenant_id(self.to_dict())


__all__ = ["Model", "OpenEnum", "model_field"]
