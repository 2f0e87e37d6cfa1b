"""Fixtures shared by the e2e modules: one certificate per run."""

from __future__ import annotations

import pytest

from .proxies import Tls


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return Tls.make(tmp_path_factory.mktemp("tls"))
