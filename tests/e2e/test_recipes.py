"""The README's proxy recipes are the files the e2e tests run (issue 5:
"each proxy recipe in the docs is the exact config the e2e tests use")."""

from __future__ import annotations

import pytest

from .recipes import PROXY_EXAMPLES, RECIPES, config_blocks, serve_commands

pytestmark = pytest.mark.e2e

PREFIX_HEADER = "x-forwarded-prefix"


@pytest.mark.parametrize("proxy", RECIPES)
def test_readme_shows_each_recipe_file_verbatim(proxy: str) -> None:
    recipe = RECIPES[proxy]
    files = [(PROXY_EXAMPLES / name).read_text() for name in recipe.files]
    assert config_blocks(recipe) == files


@pytest.mark.parametrize("proxy", RECIPES)
def test_readme_serve_commands_trust_the_prefix_only_where_it_is_stripped(
    proxy: str,
) -> None:
    # README "Behind a proxy: recipes": a stripping proxy sends
    # X-Forwarded-Prefix (trust it); one that forwards /app/... unchanged
    # does not, and --prefix /app does the work instead.
    commands = serve_commands(RECIPES[proxy])
    site, unstripped = commands["site"], commands["unstripped"]
    assert PREFIX_HEADER in site[site.index("--trusted-headers") + 1].split()
    assert "--prefix" not in site
    assert unstripped[unstripped.index("--prefix") + 1] == "/app"
    headers = unstripped[unstripped.index("--trusted-headers") + 1].split()
    assert PREFIX_HEADER not in headers
