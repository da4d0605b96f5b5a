"""Where the API key comes from, and that it never prints itself."""

from __future__ import annotations

import pickle

import pytest

from pytest_iterbench.llm.errors import ApiKeyMissing
from pytest_iterbench.llm.secrets import ApiKey, Redactor, parse_dotenv, resolve_api_key

SECRET = "sk-ant-secret-value-123456"


def test_the_argument_wins_then_the_environment_then_dotenv(tmp_path):
    (tmp_path / ".env").write_text(f"ANTHROPIC_API_KEY={SECRET}-dotenv\n")
    env = {"ANTHROPIC_API_KEY": f"{SECRET}-env"}
    assert resolve_api_key(f"{SECRET}-arg", environ=env).reveal() == f"{SECRET}-arg"
    assert resolve_api_key(None, environ=env, dotenv_dirs=[tmp_path]).reveal() == f"{SECRET}-env"
    key = resolve_api_key(None, environ={}, dotenv_dirs=[tmp_path])
    assert key.reveal() == f"{SECRET}-dotenv"
    assert key.origin.endswith(".env ANTHROPIC_API_KEY")


def test_the_seeds_variable_name_is_accepted():
    assert resolve_api_key(environ={"CLAUDE_API_KEY": SECRET}).reveal() == SECRET


def test_no_key_anywhere_says_where_it_looked(tmp_path):
    with pytest.raises(ApiKeyMissing) as caught:
        resolve_api_key(environ={"ANTHROPIC_API_KEY": "  "}, dotenv_dirs=[tmp_path])
    assert caught.value.looked_in == (
        "environment (ANTHROPIC_API_KEY, CLAUDE_API_KEY)",
        str(tmp_path.resolve() / ".env"),
    )
    assert ".env.example" in str(caught.value)


def test_a_key_never_shows_in_repr_str_or_a_pickle():
    key = ApiKey(SECRET)
    assert SECRET not in repr(key)
    assert SECRET not in str(key)
    assert SECRET not in f"{key}"
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)


def test_the_redactor_scrubs_every_occurrence():
    text = f"Authorization: Bearer {SECRET}; again {SECRET}"
    assert (
        Redactor([ApiKey(SECRET)]).scrub(text)
        == "Authorization: Bearer [REDACTED]; again [REDACTED]"
    )


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("ANTHROPIC_API_KEY=abc", "abc"),
        ("export ANTHROPIC_API_KEY=abc", "abc"),
        ('ANTHROPIC_API_KEY="a b # c"', "a b # c"),
        ("ANTHROPIC_API_KEY='abc'", "abc"),
        ("ANTHROPIC_API_KEY=abc # comment", "abc"),
        ("  ANTHROPIC_API_KEY = abc  ", "abc"),
    ],
)
def test_dotenv_lines(line, value):
    text = f"# a comment\n\nNOT A PAIR\n{line}\n"
    assert parse_dotenv(text)["ANTHROPIC_API_KEY"] == value
