"""Shared docstring fragments: substitution, indentation, and the extractors using them."""

import pytest

from sklaudio.features import F0Stats, FormantFeatures, MelCodebook, MelFeatures
from sklaudio.utils._docstring import CLIP_FEATURES_DOCS, Substitution


def test_substitution_replaces_only_its_keys_and_indents():
    """Check {key} is replaced with indented continuation lines, other braces kept."""

    @Substitution(sr="sr : float\n    Rate.")
    class Est:
        """Summary.

        Parameters
        ----------
        {sr}

        kind : {"a", "b"}
            Kind.
        """

    assert "        sr : float\n    Rate." in Est.__doc__
    assert '{"a", "b"}' in Est.__doc__ and "{sr}" not in Est.__doc__


def test_substitution_of_an_absent_key_is_an_error():
    """Check a fragment the docstring does not ask for raises, naming the token."""
    with pytest.raises(ValueError, match=r"no \{sr_\} to substitute"):

        @Substitution(sr_="x")
        class Est:
            """No tokens here."""


@pytest.mark.parametrize("cls", [MelFeatures, MelCodebook, F0Stats, FormantFeatures])
def test_extractors_render_the_shared_paragraphs(cls):
    """Check each extractor's docstring holds every shared paragraph, no token left."""
    doc = cls.__doc__
    for key, text in CLIP_FEATURES_DOCS.items():
        assert "{" + key + "}" not in doc
        # continuation lines of a class docstring entry sit 8 spaces in
        first, *rest = text.split("\n")
        assert f"    {first}\n" in doc
        assert all(line.startswith("        ") for line in rest)


@pytest.mark.parametrize("name", ["LogFeatures", "SelectFeatures", "YeoJohnsonTransformer"])
def test_tabular_transformers_render_the_shared_paragraphs(name):
    """Check the tabular transformers' docstrings hold the shared attribute entries."""
    import sklaudio.tabular
    from sklaudio.utils._docstring import TABULAR_DOCS

    doc = getattr(sklaudio.tabular, name).__doc__
    for key, text in TABULAR_DOCS.items():
        assert "{" + key + "}" not in doc and text.split("\n")[0] in doc
