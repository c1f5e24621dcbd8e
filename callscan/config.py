"""One loader for the data files in ``models/``: YAML reader, validator toolkit, cache.

Every data file a QA team may change (a playbook, a sensory lexicon, the role cues, the opening
profile) is read by :func:`read_yaml`, checked with a :class:`Checker` and compiled once per file
and modification time through :func:`cached`. Every mistake raises a one-line
:class:`~callscan.errors.ConfigError` naming the file, the key and the valid choices::

    'team.yaml': stages.contact.elements.greeting.strength: 'medium' is not valid (valid: strong, weak)

:func:`validate_file` tells which kind a file is from its top-level keys and validates it with
that kind's loader.

Public API
----------
read_yaml, cached, clear_cache, Checker, GuardedPattern, PatternTimeout, KINDS, detect_kind,
validate_file
"""

from __future__ import annotations

import functools
import math
import os
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from callscan import checked_patterns, compiled_patterns
from callscan.errors import ConfigError

__all__ = [
    "KINDS",
    "Checker",
    "GuardedPattern",
    "Kind",
    "PatternTimeout",
    "cached",
    "clear_cache",
    "detect_kind",
    "printable",
    "read_yaml",
    "validate_file",
]

T = TypeVar("T")

# ----------------------------------------------------------------------------- cache

_CACHE_SIZE = 64  # compiled files kept per process (least recently used dropped first)
_cache: OrderedDict[tuple[Any, str], tuple[tuple[int, int], Any]] = OrderedDict()
_lock = threading.Lock()


def cached(kind: Any, path: str | Path, build: Callable[[], T]) -> T:
    """``build()``'s result for ``path``, built once per file and modification time.

    Parameters
    ----------
    kind : hashable
        What is built from the file (``"yaml"``, ``"playbook"``, ``("lexicon", "id")``, ...);
        one file can be cached as several kinds.
    path : str or Path
        The file. It is keyed as given (the built objects record the path they were given);
        its modification time (ns) and size tell when it changed.
    build : callable
        Builds the value; called again only after the file changed. Errors are not cached.

    Raises
    ------
    ConfigError
        ``'FILE': no such file`` when ``path`` is not a file.
    """
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"'{path}': no such file")
    key, stamp = (kind, str(path)), (st.st_mtime_ns, st.st_size)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == stamp:
            _cache.move_to_end(key)
            return hit[1]
    value = build()  # outside the lock: a build may read other cached files
    checked_patterns.flush()  # the patterns the build checked, for the next process
    with _lock:
        _cache[key] = (stamp, value)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    """Forget every cached file (tests; a long-running process that wants a fresh start)."""
    with _lock:
        _cache.clear()


# ----------------------------------------------------------------------------- YAML


MAX_YAML_BYTES = 1024 * 1024  # a data file larger than this is refused
MAX_YAML_DEPTH = 64  # nesting of mappings and lists (the bundled files reach about 8)
MAX_YAML_NODES = 1_000_000  # values in a file, counting each alias as the value it repeats


@functools.cache
def _safe_loader_base() -> type:
    """``yaml.SafeLoader``'s behaviour, with libyaml's C parser under it where PyYAML has it.

    The C parser reads the characters and makes the events (the slow part in Python: the
    bundled data files parse in 26 ms instead of 177 ms, to the same data); composing the
    nodes stays PyYAML's Python ``Composer``, so :func:`_bounded_loader` still checks depth
    and size node by node while composing (libyaml's own composer recurses in C, with no
    depth limit). Without libyaml: ``yaml.SafeLoader``.
    """
    import yaml

    if not getattr(yaml, "__with_libyaml__", False):
        return yaml.SafeLoader
    from yaml._yaml import CParser
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.resolver import Resolver

    class CEventsSafeLoader(CParser, SafeConstructor, Resolver):
        def __init__(self, stream: Any) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.anchors: dict = {}

        # PyYAML's composer on the C parser's events (CParser has C versions of these)
        get_single_node = Composer.get_single_node
        compose_document = Composer.compose_document
        compose_node = Composer.compose_node
        compose_scalar_node = Composer.compose_scalar_node
        compose_sequence_node = Composer.compose_sequence_node
        compose_mapping_node = Composer.compose_mapping_node

    return CEventsSafeLoader


def _bounded_loader(path: str) -> type:
    """A safe YAML loader (:func:`_safe_loader_base`) that refuses deep nesting and alias
    bombs (``ConfigError``)."""
    import yaml

    class BoundedLoader(_safe_loader_base()):  # type: ignore[misc]
        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self.sizes: dict[int, int] = {}  # id(node) -> values under it, aliases expanded
            self.depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                return super().compose_node(parent, index)  # its size is its anchor's
            self.depth += 1
            if self.depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise ConfigError(
                    f"'{path}': line {mark.line + 1}: nested more than {MAX_YAML_DEPTH} levels deep"
                )
            node = super().compose_node(parent, index)
            self.depth -= 1
            if node is None:
                return node
            if isinstance(node, yaml.SequenceNode):
                children = node.value
            elif isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            else:
                children = []
            size = 1 + sum(self.sizes.get(id(c), 1) for c in children)
            if size > MAX_YAML_NODES:
                raise ConfigError(
                    f"'{path}': line {node.start_mark.line + 1}: more than {MAX_YAML_NODES:,} "
                    "values once its aliases are expanded (an alias bomb?)"
                )
            self.sizes[id(node)] = size
            return node

    return BoundedLoader


def _parse(path: str) -> dict:
    import yaml

    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"'{path}': cannot read ({e.strerror})") from e
    if len(raw) > MAX_YAML_BYTES:
        raise ConfigError(f"'{path}': too large for a data file (limit {MAX_YAML_BYTES:,} bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"'{path}': not UTF-8 text (byte {e.start})") from None
    loader = None
    try:
        loader = _bounded_loader(path)(text)  # the reader checks the characters here
        data = loader.get_single_data()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = str(getattr(e, "problem", None) or e).replace("\n", " ")
        raise ConfigError(f"'{path}':{where}: invalid YAML ({problem})") from None
    except RecursionError:
        raise ConfigError(f"'{path}': nested too deeply") from None
    except (ValueError, OverflowError) as e:  # e.g. an integer of thousands of digits
        raise ConfigError(f"'{path}': invalid YAML ({str(e)[:120]})") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(f"'{path}': the top level must be a mapping of keys")
    return data


def read_yaml(path: str | Path) -> dict:
    """Parse a YAML (or JSON) data file whose top level is a mapping; parsed once per version.

    The returned mapping is shared by every caller: treat it as read-only.

    Raises
    ------
    ConfigError
        One line naming the file: no such file, cannot read, invalid YAML (with the line),
        or a top level that is not a mapping.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(printable(f"'{path}': no such file"))
    try:
        return cached("yaml", str(p), lambda: _parse(str(p)))
    except ConfigError as e:
        if str(e).isprintable():
            raise
        raise ConfigError(printable(str(e)), option=e.option) from None


# ----------------------------------------------------------------------------- validation


def printable(text: str) -> str:
    """``text`` on one line: newlines and other control characters escaped (``\\n``).

    Examples
    --------
    >>> printable("turns[0].a\\nb: unknown key")
    'turns[0].a\\\\nb: unknown key'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class Checker:
    """Validator toolkit for one parsed file; every error names the file and the key.

    Keys are dotted paths into the file (``stages.contact.weight``, ``cues[3].role``); the
    empty key is the top level. Loaders subclass it and add their own structure.

    Parameters
    ----------
    path : str
        The file, as named in messages.
    macro_ref : re.Pattern, optional
        How a macro is written inside a regex (group 1 is its name, e.g. ``<([A-Z_]+)>``);
        :meth:`regex` and :meth:`expand` replace it with ``self.macros[name]``. None: no macros.
    """

    def __init__(self, path: str, macro_ref: re.Pattern | None = None):
        self.path = path
        self.macro_ref = macro_ref
        self.macros: dict[str, str] = {}

    def fail(self, key: str, message: str, choices: Iterable[Any] | None = None) -> ConfigError:
        """``'FILE': KEY: message (valid: a, b, c)`` (no ``(valid: ...)`` without choices).

        Always one line: control characters in keys and values (a key with a newline in it)
        are written escaped."""
        listed = [str(c) for c in choices] if choices is not None else []
        valid = f" (valid: {', '.join(listed)})" if listed else ""
        return ConfigError(printable(f"'{self.path}': {key}: {message}{valid}"))

    def mapping(self, value: Any, key: str, allowed: Iterable[str] | None = None) -> dict:
        """``value`` if it is a mapping whose keys are all in ``allowed`` (None: any key)."""
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping, not {type(value).__name__}")
        if allowed is not None:
            allowed = tuple(allowed)
            for k in value:
                if k not in allowed:
                    raise self.fail(f"{key}.{k}" if key else str(k), "unknown key", allowed)
        return value

    def require(self, value: dict, key: str, needed: Iterable[str], message: str) -> None:
        """Fail on the first key of ``needed`` missing from ``value`` (``KEY.k: message``)."""
        for k in needed:
            if k not in value:
                raise self.fail(f"{key}.{k}" if key else k, message)

    def items(self, value: Any, key: str) -> list:
        """``value`` if it is a list."""
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, not {type(value).__name__}")
        return value

    def strings(self, value: Any, key: str) -> list[str]:
        """A list of strings; a single string counts as a list of one."""
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of strings, not {type(value).__name__}")
        for i, v in enumerate(value):
            if not isinstance(v, str):
                raise self.fail(f"{key}[{i}]", f"{v!r} is not a string (quote it)")
        return value

    def text(self, value: Any, key: str) -> str:
        """A non-empty string."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be non-empty text")
        return value

    def lang_text(self, value: Any, key: str, languages: Iterable[str]) -> dict[str, str]:
        """A mapping language -> non-empty text (``{id: ..., en: ...}``)."""
        d = self.mapping(value, key, languages)
        return {lang: self.text(t, f"{key}.{lang}") for lang, t in d.items()}

    def choice(self, value: Any, key: str, choices: Iterable[Any]) -> Any:
        """``value`` if it is one of ``choices``."""
        choices = tuple(choices)
        if value not in choices:
            raise self.fail(key, f"{value!r} is not valid", choices)
        return value

    def number(
        self,
        value: Any,
        key: str,
        *,
        integer: bool = False,
        minimum: float | None = 0.0,
        maximum: float | None = None,
    ) -> Any:
        """A finite number (an int when ``integer``) within ``minimum`` .. ``maximum`` (None:
        open); NaN and infinities are refused.

        Returns a float, or an int when ``integer``.
        """
        ok = isinstance(value, int) if integer else isinstance(value, (int, float))
        ok = ok and not isinstance(value, bool)
        ok = ok and not (isinstance(value, float) and not math.isfinite(value))  # NaN, inf
        if ok and minimum is not None and value < minimum:
            ok = False
        if ok and maximum is not None and value > maximum:
            ok = False
        if not ok:
            kind = "an integer" if integer else "a number"
            if minimum is not None and maximum is not None:
                span = f" between {minimum:g} and {maximum:g}"
            elif minimum is not None:
                span = f" >= {minimum:g}"
            elif maximum is not None:
                span = f" <= {maximum:g}"
            else:
                span = ""
            raise self.fail(key, f"must be {kind}{span}, not {value!r:.40}")
        return int(value) if integer else float(value)

    def boolean(self, value: Any, key: str) -> bool:
        """``true`` or ``false``."""
        if not isinstance(value, bool):
            raise self.fail(key, f"{value!r} is not valid", ("true", "false"))
        return value

    def expand(self, pattern: str, key: str) -> str:
        """``pattern`` with its macros replaced, and the macros those hold, up to
        :data:`MAX_MACRO_DEPTH` levels (unknown macro: error listing the known ones; deeper:
        error, e.g. a macro that names itself)."""
        if self.macro_ref is None:
            return pattern

        def sub(m: re.Match) -> str:
            name = m.group(1)
            if name not in self.macros:
                raise self.fail(key, f"unknown macro <{name}>", sorted(self.macros) or ["(none)"])
            return self.macros[name]

        for _ in range(MAX_MACRO_DEPTH + 1):
            expanded = self.macro_ref.sub(sub, pattern)
            if expanded == pattern:
                return expanded
            pattern = expanded
        raise self.fail(
            key, f"macros nested more than {MAX_MACRO_DEPTH} deep (does a macro use itself?)"
        )

    def regex(self, pattern: Any, key: str, flags: int = re.IGNORECASE) -> re.Pattern:
        """Compile one regex string (macros expanded), case-insensitive unless ``flags`` say.

        The result is a :class:`GuardedPattern`: it has the methods of ``re.Pattern`` that the
        stages call, and every match runs under a time limit (:data:`MATCH_TIMEOUT_S`; over it
        raises :class:`PatternTimeout`), the second guard after :func:`nested_quantifier`.
        A pattern that passed these checks in an earlier process is not checked again
        (:mod:`callscan.checked_patterns`).
        """
        if not isinstance(pattern, str):
            raise self.fail(key, "must be a regular expression string")
        text = self.expand(pattern, key)
        known = checked_patterns.flags_of(text, flags)  # passed these checks in a process before
        if known is not None:
            return cast(re.Pattern, GuardedPattern(text, known, key=f"'{self.path}': {key}"))
        try:
            tree = parse_regex(text, flags)  # the syntax the files are documented in
            compiled = GuardedPattern(text, tree.state.flags, key=f"'{self.path}': {key}")
        except (re.error, OverflowError, RecursionError, ValueError) as e:
            raise self.fail(key, f"invalid regex ({e})") from None
        except Exception as e:  # the regex package's own error class
            raise self.fail(key, f"invalid regex ({e})") from None
        if _catastrophic_tree(tree):
            raise self.fail(
                key,
                "a repeated group whose every part is itself repeated, like (a+)+ or "
                "(\\w+\\s*)*, can take exponential time on a long turn: bound the outer "
                "count ({0,5}) or put a fixed word inside it",
            )
        checked_patterns.remember(text, flags, tree.state.flags)
        return cast(re.Pattern, compiled)  # duck-typed: see GuardedPattern


MAX_MACRO_DEPTH = 4  # levels of macros inside macros (<INTRO_NAME> holds <NOTNAME>: 2 levels)
MATCH_TIMEOUT_S = 1.0  # s, the longest one match of a data file's regex may run on one text


class PatternTimeout(ConfigError):
    """A data file's regex ran past its time limit on one text (catastrophic backtracking
    that :func:`nested_quantifier` does not recognise, such as a backreference into
    repeated groups). ``key`` names the file and key the pattern came from."""

    def __init__(self, key: str, limit_s: float):
        super().__init__(
            f"{key}: the pattern ran past its {limit_s:g} s limit on one turn "
            "(catastrophic backtracking); not evaluated"
        )
        self.key = key
        self.limit_s = limit_s


class GuardedPattern:
    """A regex from a data file, matched under a time limit.

    Compiled with the ``regex`` package (the ``re`` syntax, version 0), whose matching can be
    stopped after ``timeout`` seconds. Offers the methods of ``re.Pattern`` that callscan's
    stages use (``search``, ``match``, ``fullmatch``, ``finditer``, ``findall``, ``sub``) and
    its ``pattern``, ``flags``, ``groups`` and ``groupindex``. Each call takes an optional
    ``timeout`` (seconds; default :data:`MATCH_TIMEOUT_S`) and raises
    :class:`PatternTimeout` past it. The limit is checked periodically by the regex engine,
    so a call may run a few times past it on a busy machine, never without bound.
    """

    __slots__ = ("_rx", "flags", "key", "pattern")

    def __init__(self, pattern: str, flags: int = 0, *, key: str = "pattern"):
        """``flags``: ``re`` flags (``re.IGNORECASE``, ...), translated for ``regex``.
        Compiled on first use (a playbook holds hundreds; ``regex`` compiles slower than
        ``re``)."""
        self._rx: Any = None
        self.pattern = pattern
        self.flags = flags
        self.key = key

    @property
    def compiled(self) -> Any:
        """The ``regex`` package's pattern object (loaded from the record of an earlier
        process's compile where there is one: :mod:`callscan.compiled_patterns`)."""
        if self._rx is None:
            import regex

            own = regex.VERSION0
            for name in ("IGNORECASE", "MULTILINE", "DOTALL", "VERBOSE", "ASCII", "UNICODE"):
                if self.flags & getattr(re, name):
                    own |= getattr(regex, name)
            self._rx = compiled_patterns.compile(self.pattern, own)
        return self._rx

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (playbooks travel to batch workers)
        return (_guarded, (self.pattern, self.flags, self.key))

    def __repr__(self) -> str:
        return f"GuardedPattern({self.pattern!r}, key={self.key!r})"

    @property
    def groups(self) -> int:
        return int(self.compiled.groups)

    @property
    def groupindex(self) -> dict[str, int]:
        return dict(self.compiled.groupindex)

    def _run(self, method: str, timeout: float | None, *args: Any, **kwargs: Any) -> Any:
        limit = MATCH_TIMEOUT_S if timeout is None else max(timeout, 0.0)
        try:
            return getattr(self.compiled, method)(*args, timeout=limit, **kwargs)
        except TimeoutError:
            raise PatternTimeout(self.key, limit) from None

    def search(self, string: str, pos: int = 0, *, timeout: float | None = None) -> Any:
        return self._run("search", timeout, string, pos)

    def match(self, string: str, pos: int = 0, *, timeout: float | None = None) -> Any:
        return self._run("match", timeout, string, pos)

    def fullmatch(self, string: str, pos: int = 0, *, timeout: float | None = None) -> Any:
        return self._run("fullmatch", timeout, string, pos)

    def findall(self, string: str, *, timeout: float | None = None) -> list[Any]:
        return list(self._run("findall", timeout, string))

    def sub(self, repl: Any, string: str, count: int = 0, *, timeout: float | None = None) -> str:
        return str(self._run("sub", timeout, repl, string, count))

    def finditer(self, string: str, *, timeout: float | None = None) -> Iterator[Any]:
        """The matches in ``string``; the time limit covers the whole iteration."""
        import time

        limit = MATCH_TIMEOUT_S if timeout is None else max(timeout, 0.0)
        deadline = time.monotonic() + limit
        pos, n = 0, len(string)
        while pos <= n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PatternTimeout(self.key, limit)
            try:
                m = self.compiled.search(string, pos, timeout=left)
            except TimeoutError:
                raise PatternTimeout(self.key, limit) from None
            if m is None:
                return
            yield m
            pos = m.end() if m.end() > m.start() else m.end() + 1


def _guarded(pattern: str, flags: int, key: str) -> GuardedPattern:
    return GuardedPattern(pattern, flags, key=key)


_SINGLE = ("LITERAL", "NOT_LITERAL", "IN", "ANY", "CATEGORY")  # one-character items
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
_BIG_REPEAT = 10  # an outer repeat allowing more than this many times counts as unbounded


@functools.cache
def _op(op: Any) -> str:
    return str(op).rsplit(".", 1)[-1]


def _sre_parser() -> Any:
    try:
        import re._parser as sre_parse
    except ImportError:  # Python 3.10
        import sre_parse
    return sre_parse


def parse_regex(pattern: str, flags: int = 0) -> Any:
    """``pattern`` parsed as ``re.compile(pattern, flags)`` parses it, with the one check
    ``re`` makes only when compiling (a look-behind must have a fixed width): the same
    patterns are accepted and refused, in one parse instead of two (the tree also serves
    :func:`nested_quantifier`'s check). Its ``state.flags`` are ``re.compile``'s ``flags``.

    Raises
    ------
    re.error, OverflowError, RecursionError
        As ``re.compile`` would.
    """
    tree = _sre_parser().parse(pattern, flags)
    _check_lookbehind(tree)
    return tree


def _check_lookbehind(items: Any) -> None:
    for op, av in items:
        n = _op(op)
        if n in ("ASSERT", "ASSERT_NOT") and av[0] < 0:
            lo, hi = av[1].getwidth()
            if lo != hi:
                raise re.error("look-behind requires fixed-width pattern")
        for sub in _subtrees(n, av):
            _check_lookbehind(sub)


def _big(hi: int) -> bool:
    return bool(hi > _BIG_REPEAT)  # MAXREPEAT (unbounded) is above it too


def _subtrees(op: str, av: Any) -> list:
    """The parsed sequences directly inside one item (repeat body, group, branches, lookaround)."""
    if op in _REPEATS:
        return [av[2]]
    if op == "SUBPATTERN":
        return [av[-1]]
    if op == "BRANCH":
        return list(av[1])
    if op in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    if op == "GROUPREF_EXISTS":  # (?(1)yes|no)
        return [b for b in av[1:] if b is not None]
    return []


def _fixed(items: Any) -> bool:
    """Every way through the sequence consumes a character it names (a fixed part)."""
    for op, av in items:
        n = _op(op)
        if n in _SINGLE:
            return True
        if n == "SUBPATTERN" and _fixed(av[-1]):
            return True
        if n == "BRANCH" and all(_fixed(b) for b in av[1]):
            return True
        if n in _REPEATS and av[0] >= 1 and not _big(av[1]) and _fixed(av[2]):
            return True
    return False


def _holds_big_repeat(items: Any) -> bool:
    for op, av in items:
        n = _op(op)
        if n in _REPEATS and _big(av[1]):
            return True
        if any(_holds_big_repeat(sub) for sub in _subtrees(n, av)):
            return True
    return False


def _catastrophic(items: Any) -> bool:
    for op, av in items:
        n = _op(op)
        if n in _REPEATS and _big(av[1]) and _holds_big_repeat(av[2]) and not _fixed(av[2]):
            return True
        if any(_catastrophic(sub) for sub in _subtrees(n, av)):
            return True
    return False


def nested_quantifier(pattern: str) -> bool:
    """True when ``pattern`` has catastrophic backtracking of the usual form: an unbounded
    repeat whose body has no fixed part and itself holds an unbounded repeat (``(a+)+``,
    ``(\\w+\\s?)*``). A body with a fixed word (``(?:\\s+(?:hello|hi))*``) is fine.

    Examples
    --------
    >>> nested_quantifier(r"(a+)+$"), nested_quantifier(r"(?:\\s+(?:hallo|hello))*")
    (True, False)
    """
    try:
        tree = _sre_parser().parse(pattern)
    except (re.error, OverflowError, RecursionError, ValueError):
        return False  # compiling reports it
    return _catastrophic_tree(tree)


def _catastrophic_tree(tree: Any) -> bool:
    try:
        return _catastrophic(tree)
    except RecursionError:
        return True


# ----------------------------------------------------------------------------- kinds of file


@dataclass(frozen=True)
class Kind:
    """One kind of data file: the top-level keys that mark it and the function that loads it."""

    name: str  # "playbook", "lexicon", "roles", "opening_profile", "profile" (team profile)
    keys: frozenset[str]  # top-level keys only this kind has
    loader: str  # "module:function" taking the path; imported on use (the core imports no stage)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


KINDS: tuple[Kind, ...] = (
    Kind(
        "playbook",
        _words("stages complaint_steps rules triggers call_types clitics"),
        "callscan.analysis.playbook:load_playbook",
    ),
    Kind(
        "lexicon",
        _words("thresholds modalities negation context_rules advice ignore_forms code_switching"),
        "callscan.analysis.modality:load_lexicon_file",
    ),
    Kind(
        "roles",
        _words("cues scale first_speaker opening_s"),
        "callscan.speakers.roles:load_cues",
    ),
    Kind(
        "opening_profile",
        _words("tone clarity warmth content"),
        "callscan.analysis.opening.profile:load_profile",
    ),
    Kind(
        "profile",
        _words("team companies departments products agents competitors terms greeting"),
        "callscan.profile:load_profile",
    ),
)


def _kind(name: str) -> Kind:
    for k in KINDS:
        if k.name == name:
            return k
    raise ConfigError(f"{name!r} is not a kind of data file (valid: {_kind_names()})")


def _kind_names() -> str:
    return ", ".join(k.name for k in KINDS)


def detect_kind(path: str | Path) -> str:
    """Which kind of data file ``path`` is, from its top-level keys (see :data:`KINDS`).

    Raises
    ------
    ConfigError
        The file cannot be read, or no kind (or more than one equally) matches its keys.
    """
    data = read_yaml(path)
    score = {k.name: len(k.keys.intersection(map(str, data))) for k in KINDS}
    best = max(score.values())
    winners = [name for name, n in score.items() if n == best]
    if best == 0 or len(winners) > 1:
        keys = ", ".join(map(str, data)) or "(none)"
        raise ConfigError(
            f"'{path}': cannot tell which kind of data file this is from its top-level keys "
            f"({keys}) (valid: {_kind_names()})"
        )
    return winners[0]


def validate_file(path: str | Path, kind: str | None = None) -> Any:
    """Validate a data file; returns it loaded and compiled, as its loader returns it.

    Parameters
    ----------
    path : str or Path
        A playbook, sensory lexicon, roles cue file, opening profile or team profile.
    kind : str, optional
        One of :data:`KINDS`' names; None tells it from the file's top-level keys.

    Returns
    -------
    Playbook, Lexicon, role cues or OpeningProfile
        Each has a ``summary()`` for messages.

    Raises
    ------
    ConfigError
        One line naming the file, the key and the valid choices.
    """
    import importlib

    spec = _kind(kind) if kind is not None else _kind(detect_kind(path))
    module, _, func = spec.loader.partition(":")
    loader = getattr(importlib.import_module(module), func)
    return loader(str(path))
