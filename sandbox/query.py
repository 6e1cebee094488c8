"""The readByQuery condition language: a tokenizer and a recursive-descent parser to a small AST.

Grammar (keywords case-insensitive, field names upper-cased; precedence NOT > AND > OR):

    query      := or_expr EOF                      (a blank query matches every row)
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | "(" or_expr ")" | condition
    condition  := FIELD ( ("=" | "!=" | "<>" | "<" | ">" | "<=" | ">=") literal
                        | ["NOT"] "IN" "(" literal ("," literal)* ")"
                        | ["NOT"] "LIKE" STRING
                        | "IS" ["NOT"] "NULL" )
    literal    := STRING | NUMBER
    STRING     := "'" … "'"   with \\' for a quote and \\\\ for a backslash; any other backslash
                               is kept as written (Intacct documents only \\')
    NUMBER     := ["-"] digits ["." digits]

Anything else is a QuerySyntaxError carrying the position, never a guess: a bare word where a
value belongs (`RECORDID = 142507-P`) is refused, which real Intacct answers with zero rows.
Nesting depth, query length and IN-list length are bounded so hostile input cannot exhaust the
stack or the CPU; 1,000 values per IN list is Oracle's own limit (ORA-01795).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from sandbox.errors import QuerySyntaxError

MAX_QUERY_LENGTH = 200_000
MAX_DEPTH = 50
MAX_IN_VALUES = 1000

KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "IS", "NULL"})
COMPARISONS = ("<=", ">=", "<>", "!=", "=", "<", ">")


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token; `value` is the decoded text (string contents without quotes)."""

    kind: str  # WORD, KEYWORD, STRING, NUMBER, OP, LPAREN, RPAREN, COMMA, EOF
    value: str
    position: int


@dataclass(frozen=True, slots=True)
class Literal:
    """A value written in the query: a quoted string or a number (kept as its exact text)."""

    kind: str  # "string" | "number"
    text: str
    position: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """FIELD op literal, with op one of = != < > <= >= (<> is normalised to !=)."""

    field: str
    op: str
    value: Literal
    position: int


@dataclass(frozen=True, slots=True)
class InList:
    """FIELD [NOT] IN (literal, …)."""

    field: str
    values: tuple[Literal, ...]
    negated: bool
    position: int


@dataclass(frozen=True, slots=True)
class Like:
    """FIELD [NOT] LIKE 'pattern' (% any run, _ one character, case-sensitive)."""

    field: str
    pattern: Literal
    negated: bool
    position: int


@dataclass(frozen=True, slots=True)
class IsNull:
    """FIELD IS [NOT] NULL."""

    field: str
    negated: bool
    position: int


@dataclass(frozen=True, slots=True)
class And:
    """All parts hold."""

    parts: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one part holds."""

    parts: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The operand does not hold."""

    operand: "Node"


Node = Union[Comparison, InList, Like, IsNull, And, Or, Not]


def tokenize(text: str) -> list[Token]:
    """Split a condition into tokens (ends with an EOF token); QuerySyntaxError on a stray character."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"query is longer than {MAX_QUERY_LENGTH} characters")
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "'":
            start = i
            value, i = _read_string(text, i)
            tokens.append(Token("STRING", value, start))
        elif char.isdigit() or (char == "-" and i + 1 < n and text[i + 1].isdigit()):
            start = i
            i += 1
            while i < n and text[i].isdigit():
                i += 1
            if i + 1 < n and text[i] == "." and text[i + 1].isdigit():
                i += 1
                while i < n and text[i].isdigit():
                    i += 1
            if i < n and (text[i].isalnum() or text[i] in "_.'"):
                raise QuerySyntaxError(f"malformed number {text[start:i + 1]!r}", start)
            tokens.append(Token("NUMBER", text[start:i], start))
        elif char.isascii() and (char.isalpha() or char == "_"):
            start = i
            while i < n and text[i].isascii() and (text[i].isalnum() or text[i] in "_."):
                i += 1
            word = text[start:i].upper()
            tokens.append(Token("KEYWORD" if word in KEYWORDS else "WORD", word, start))
        elif char == "(":
            tokens.append(Token("LPAREN", char, i))
            i += 1
        elif char == ")":
            tokens.append(Token("RPAREN", char, i))
            i += 1
        elif char == ",":
            tokens.append(Token("COMMA", char, i))
            i += 1
        else:
            op = next((op for op in COMPARISONS if text.startswith(op, i)), None)
            if op is None:
                raise QuerySyntaxError(f"unexpected character {char!r}", i)
            tokens.append(Token("OP", "!=" if op == "<>" else op, i))
            i += len(op)
    tokens.append(Token("EOF", "", n))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    """Decode the string literal opening at `start`; returns (contents, index after the quote)."""
    out: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "'\\":
            out.append(text[i + 1])
            i += 2
        elif char == "'":
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise QuerySyntaxError("unterminated string literal", start)


def parse_query(text: str | None) -> Node | None:
    """The AST of a readByQuery condition, or None for a blank one (every row matches)."""
    if text is None or not text.strip():
        return None
    return _Parser(tokenize(text)).parse()


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._depth = 0

    def parse(self) -> Node:
        node = self._or_expr()
        token = self._peek()
        if token.kind != "EOF":
            raise QuerySyntaxError(f"unexpected {_describe(token)} after a complete condition", token.position)
        return node

    # -- grammar rules ---------------------------------------------------------------------
    def _or_expr(self) -> Node:
        parts = [self._and_expr()]
        while self._accept_keyword("OR"):
            parts.append(self._and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def _and_expr(self) -> Node:
        parts = [self._not_expr()]
        while self._accept_keyword("AND"):
            parts.append(self._not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _not_expr(self) -> Node:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise QuerySyntaxError(f"conditions nested deeper than {MAX_DEPTH} levels", self._peek().position)
        try:
            if self._accept_keyword("NOT"):
                return Not(self._not_expr())
            token = self._peek()
            if token.kind == "LPAREN":
                self._advance()
                node = self._or_expr()
                self._expect("RPAREN", "')'")
                return node
            return self._condition()
        finally:
            self._depth -= 1

    def _condition(self) -> Node:
        token = self._peek()
        if token.kind != "WORD":
            raise QuerySyntaxError(f"expected a field name, found {_describe(token)}", token.position)
        self._advance()
        field, position = token.value, token.position
        nxt = self._peek()
        if nxt.kind == "OP":
            self._advance()
            return Comparison(field, nxt.value, self._literal(), position)
        negated = self._accept_keyword("NOT")
        if self._accept_keyword("IN"):
            return InList(field, self._value_list(), negated, position)
        if self._accept_keyword("LIKE"):
            pattern = self._peek()
            if pattern.kind != "STRING":
                raise QuerySyntaxError(f"LIKE needs a quoted pattern, found {_describe(pattern)}", pattern.position)
            self._advance()
            return Like(field, Literal("string", pattern.value, pattern.position), negated, position)
        if not negated and self._accept_keyword("IS"):
            is_not = self._accept_keyword("NOT")
            self._expect_keyword("NULL")
            return IsNull(field, is_not, position)
        found = self._peek()
        expected = "IN or LIKE after NOT" if negated else "an operator (= != <> < > <= >= IN LIKE IS)"
        raise QuerySyntaxError(f"expected {expected} after {field}, found {_describe(found)}", found.position)

    def _value_list(self) -> tuple[Literal, ...]:
        self._expect("LPAREN", "'(' after IN")
        values = [self._literal()]
        while self._peek().kind == "COMMA":
            self._advance()
            values.append(self._literal())
            if len(values) > MAX_IN_VALUES:
                raise QuerySyntaxError(f"more than {MAX_IN_VALUES} values in an IN list", self._peek().position)
        self._expect("RPAREN", "')' closing the IN list")
        return tuple(values)

    def _literal(self) -> Literal:
        token = self._peek()
        if token.kind == "STRING":
            self._advance()
            return Literal("string", token.value, token.position)
        if token.kind == "NUMBER":
            self._advance()
            return Literal("number", token.value, token.position)
        hint = " (use IS NULL)" if token.kind == "KEYWORD" and token.value == "NULL" else ""
        hint = hint or (" (quote text values)" if token.kind == "WORD" else "")
        raise QuerySyntaxError(f"expected a quoted string or a number, found {_describe(token)}{hint}", token.position)

    # -- token helpers ---------------------------------------------------------------------
    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _advance(self) -> Token:
        token = self._tokens[self._index]
        if token.kind != "EOF":
            self._index += 1
        return token

    def _accept_keyword(self, word: str) -> bool:
        token = self._peek()
        if token.kind == "KEYWORD" and token.value == word:
            self._advance()
            return True
        return False

    def _expect_keyword(self, word: str) -> None:
        if not self._accept_keyword(word):
            token = self._peek()
            raise QuerySyntaxError(f"expected {word}, found {_describe(token)}", token.position)

    def _expect(self, kind: str, what: str) -> None:
        token = self._peek()
        if token.kind != kind:
            raise QuerySyntaxError(f"expected {what}, found {_describe(token)}", token.position)
        self._advance()


def _describe(token: Token) -> str:
    if token.kind == "EOF":
        return "the end of the query"
    if token.kind == "STRING":
        return f"string '{token.value[:40]}'"
    return f"{token.value[:40]!r}"
