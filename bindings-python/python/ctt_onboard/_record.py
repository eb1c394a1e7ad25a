"""``Record``: the base of the package's plain classes (models, credentials, flow results).

``dataclasses`` cost a third of ``import ctt_onboard``: it imports ``inspect`` and compiles
several methods per class. These classes need less: keyword (or positional) construction with
defaults, equality, a ``repr`` that hides secrets, frozen instances where asked, ``replace()``
and the list of fields. ``Record`` gives that with one generic ``__init__`` and no code
generation; type checkers see the subclasses as dataclasses through ``dataclass_transform``.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar

    from typing_extensions import Self, dataclass_transform
else:

    def dataclass_transform(**_options):
        return lambda cls: cls


#: What a secret field shows in ``repr``.
MASK = "***"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: The default of a field that has none.
MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """Assigning to or deleting a field of a frozen record."""


class Field:
    """One field of a ``Record``: its name, default and how it is shown and sent."""

    __slots__ = ("default", "default_factory", "kind", "name", "repr", "secret", "wire")

    def __init__(
        self,
        default: Any = MISSING,
        default_factory: Callable[[], Any] | None = None,
        *,
        repr: bool = True,
        secret: bool = False,
        wire: str = "",
        kind: Any = None,
    ) -> None:
        #: The attribute's name.
        self.name = ""
        #: The default, or ``MISSING``.
        self.default = default
        #: Makes the default for each instance (for lists and dicts), or None.
        self.default_factory = default_factory
        #: False when ``repr`` leaves the field out.
        self.repr = repr
        #: True when ``repr`` shows ``***`` instead of the value.
        self.secret = secret
        #: The name on the wire (models only).
        self.wire = wire
        #: How to convert a wire value into the field's type (models only), or None.
        self.kind = kind

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, wire={self.wire!r})"


def field(
    *,
    default: Any = MISSING,
    default_factory: Callable[[], Any] | None = None,
    repr: bool = True,
    secret: bool = False,
) -> Any:
    """A field with options: ``repr=False`` leaves it out of ``repr``, ``secret=True`` masks it."""
    return Field(default, default_factory, repr=repr, secret=secret)


if sys.version_info >= (3, 10):

    def _annotations(cls: type) -> dict[str, Any]:
        # Since 3.10 a class's own, never its base's (3.14 builds it on first access).
        annotations: dict[str, Any] = cls.__annotations__
        return annotations

else:

    def _annotations(cls: type) -> dict[str, Any]:
        annotations: dict[str, Any] = vars(cls).get("__annotations__", {})
        return annotations


_new = object.__new__
_set = object.__setattr__


@dataclass_transform(field_specifiers=(field, Field))
class Record:
    """The base: subclasses declare annotated fields, optionally with defaults or ``field()``;
    ``class X(Record, frozen=True)`` makes instances read-only and hashable."""

    _fields_: ClassVar[tuple[Field, ...]] = ()
    _frozen_: ClassVar[bool] = False
    _post_init_: ClassVar[bool] = False
    # For the keyword-only fast path of __init__: every field name, the plain defaults, the
    # per-instance ones, and the fields without a default.
    _names_: ClassVar[frozenset[str]] = frozenset()
    _defaults_: ClassVar[dict[str, Any]] = {}
    _factories_: ClassVar[tuple[tuple[str, Callable[[], Any]], ...]] = ()
    _required_: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, *, frozen: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = {f.name: f for f in cls._fields_}
        for name, annotation in _annotations(cls).items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            value = cls.__dict__.get(name, MISSING)
            f = value if isinstance(value, Field) else Field(value)
            f.name = name
            fields[name] = f
            if f.default is not MISSING:
                setattr(cls, name, f.default)
            elif name in cls.__dict__:
                delattr(cls, name)
        cls._fields_ = tuple(fields.values())
        cls._names_ = frozenset(fields)
        cls._defaults_ = {
            f.name: f.default
            for f in cls._fields_
            if f.default_factory is None and f.default is not MISSING
        }
        cls._factories_ = tuple(
            (f.name, f.default_factory) for f in cls._fields_ if f.default_factory is not None
        )
        cls._required_ = frozenset(
            f.name for f in cls._fields_ if f.default_factory is None and f.default is MISSING
        )
        cls.__match_args__ = tuple(fields)  # type: ignore[attr-defined,misc]
        cls._post_init_ = hasattr(cls, "__post_init__")
        if frozen or cls._frozen_:
            cls._frozen_ = True
            frozen_methods = {
                "__setattr__": Record._frozen_set,
                "__delattr__": Record._frozen_del,
                "__hash__": Record._hash,
            }
            for name, method in frozen_methods.items():
                setattr(cls, name, method)
        else:
            # Equal but mutable: unhashable, as a dataclass with eq=True is.
            cls.__hash__ = None  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args:
            self._init_positional(args, kwargs)
        else:
            # The common case, keywords only: a few dict operations, whatever the field count.
            attrs = self.__dict__
            attrs.update(self._defaults_)
            for name, factory in self._factories_:
                if name not in kwargs:
                    attrs[name] = factory()
            attrs.update(kwargs)
            # Exactly the fields were set unless a keyword is unknown or a required one missing
            # (with no required fields, the count alone tells).
            if len(attrs) != len(self._fields_) or (
                self._required_ and not self._names_.issuperset(kwargs)
            ):
                self._bad_keywords(kwargs)
        if self._post_init_:
            self.__post_init__()

    def _init_positional(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        fields = self._fields_
        if len(args) > len(fields):
            raise TypeError(
                f"{type(self).__name__}() takes {len(fields)} positional arguments "
                f"but {len(args)} were given"
            )
        attrs = self.__dict__
        for i, f in enumerate(fields):
            name = f.name
            if i < len(args):
                if name in kwargs:
                    raise TypeError(f"{type(self).__name__}() got multiple values for {name!r}")
                attrs[name] = args[i]
            elif name in kwargs:
                attrs[name] = kwargs.pop(name)
            elif f.default_factory is not None:
                attrs[name] = f.default_factory()
            elif f.default is not MISSING:
                attrs[name] = f.default
            else:
                raise TypeError(f"{type(self).__name__}() missing required argument: {name!r}")
        if kwargs:
            self._unexpected(kwargs)

    def _unexpected(self, kwargs: dict[str, Any]) -> None:
        unknown = next(k for k in kwargs if k not in self._names_)
        raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {unknown!r}")

    def _bad_keywords(self, kwargs: dict[str, Any]) -> None:
        if not self._names_.issuperset(kwargs):
            self._unexpected(kwargs)
        missing = sorted(self._required_.difference(kwargs))
        raise TypeError(f"{type(self).__name__}() missing required argument: {missing[0]!r}")

    if TYPE_CHECKING:

        def __post_init__(self) -> None: ...

    @classmethod
    def _build(cls, attrs: dict[str, Any]) -> Self:
        """An instance whose ``__dict__`` is ``attrs`` (every field set), without ``__init__``."""
        obj = _new(cls)
        _set(obj, "__dict__", attrs)
        if cls._post_init_:
            obj.__post_init__()
        return obj

    @classmethod
    def fields(cls) -> tuple[Field, ...]:
        """The fields, in declaration order (base classes first)."""
        return cls._fields_

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (field names as keywords)."""
        values = {f.name: getattr(self, f.name) for f in self._fields_}
        values.update(changes)
        return type(self)(**values)

    __replace__ = replace

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, f.name) for f in self._fields_])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def _hash(self) -> int:
        return hash(self._values())

    def _frozen_set(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def _frozen_del(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        parts = []
        for f in self._fields_:
            if f.repr:
                value = getattr(self, f.name)
                shown = MASK if f.secret and value is not None else repr(value)
                parts.append(f"{f.name}={shown}")
        return f"{type(self).__name__}({', '.join(parts)})"


__all__ = ["MASK", "MISSING", "Field", "FrozenInstanceError", "Record", "field"]
