"""The catalogue's machinery: the rendered document, the CLI, the selector check of the pytest plugin, the size."""
from __future__ import annotations

import difflib
import pathlib
import types

import pytest

from equivalence.plugins import differences as plugin
from equivalence.differences import AREAS, DIFFERENCES, KnownDifference, render
from equivalence.differences.observation import as_documented

pytestmark = pytest.mark.meta

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "DIFFERENCES.md"


def _fake(entry_id: str, observed: dict, expected: dict | None = None, **kw) -> KnownDifference:
    """A framework-free entry whose witness returns `observed`."""
    return KnownDifference(id=entry_id, area=kw.pop("area", "numerics"), title=f"title of {entry_id}", tf="tf does a",
                           torch="torch does b", witness=lambda: observed, expected=expected or observed,
                           snippet_tf="tf.a()", snippet_torch="torch.b()", evidence="docs of both, section 1", **kw)


FAKES = [
    _fake("agrees-as-written", {"tf": {"x": 0.1 + 0.2, "err": "TypeError"}, "torch": {"x": 1 / 3, "y": True}}),
    _fake("now-stale", {"tf": 1, "torch": 2}, {"tf": 1, "torch": 3}, area="dtypes", gotcha=True),
    _fake("witness-breaks", {"tf": 1}, {"tf": 1, "torch": 1}, area="dtypes"),
]


def test_committed_document_is_a_fresh_render():
    """docs/DIFFERENCES.md is exactly what the renderer produces now (it is generated, never edited by hand).

    Rendered from the documented values: whether each witness still gives them is test_difference_reproduces'
    verdict, entry by entry, so running all 130 witnesses again here (~35 s) would add time and no verdict."""
    committed = DOC.read_text(encoding="utf-8")
    if render.versions_line() not in committed.splitlines():
        pytest.skip(f"docs/DIFFERENCES.md was rendered under other versions; installed: {render.versions_line()}")
    fresh = render.render_markdown(observations=as_documented(DIFFERENCES))
    if committed != fresh:  # pytest.fail, not assert: pytest would append a diff of two 100 kB strings
        diff = "".join(list(difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True), "committed",
                                                 "fresh render", n=1))[:60])
        pytest.fail(f"docs/DIFFERENCES.md is out of date; regenerate with `{render.COMMAND}`\n{diff}", pytrace=False)


def test_render_is_deterministic_and_complete():
    """Rendering twice gives one text holding each entry's anchor, statement, snippets and observed values."""
    first, second = render.render_markdown(FAKES), render.render_markdown(FAKES)
    assert first == second
    assert first.startswith("# Known differences") and render.GENERATED in first
    for entry in FAKES:
        assert f'<a id="{entry.id}"></a>' in first and entry.title in first and "tf.a()" in first
    assert "| x | `0.3` | `0.3333333` |" in first  # floats at 7 significant digits
    assert "| y | `-` | `True` |" in first and "| err | `TypeError` | `-` |" in first


def test_render_flags_stale_and_malformed_entries():
    """A stale entry shows documented and observed tables; a broken witness shows its error with the entry id."""
    text = render.render_markdown(FAKES)
    stale = text[text.index('<a id="now-stale">'):text.index('<a id="witness-breaks">')]
    assert "**STALE on this install** (stale sides: torch): observed" in stale and "| value | `1` | `2` |" in stale
    assert "Documented (checked by running the witness):" in stale and "| value | `1` | `3` |" in stale
    assert "**Not observed: the entry is malformed.** catalogue entry 'witness-breaks'" in text


def _on(**conditions):
    """A full set of platform conditions: this machine's kind, with some overridden."""
    return {"tf_onednn": True, "torch_cpu_capability": "AVX512", "onednn_cpu_isa": "AVX512", **conditions}


def test_platform_variants_render_identically_on_every_platform(monkeypatch):
    """An entry documented per platform renders every variant with its condition, whichever platform renders it,
    and its check asserts the variant of the platform it runs on (never 'either value')."""
    from equivalence import platform
    from equivalence.differences import ByPlatform

    entry = _fake("per-platform", {"tf": [0.0, 1.0], "torch": 2},
                  {"tf": ByPlatform("tf_onednn", {True: [0.0, 1.0], False: [1.0, 1.0]}),
                   "torch": ByPlatform("torch_cpu_capability", {"AVX512": 2, ("AVX2", "DEFAULT"): 3})})
    texts = []
    for conditions, stale in ((_on(), []), (_on(tf_onednn=False), ["tf"]),
                              (_on(torch_cpu_capability="DEFAULT"), ["torch"])):
        monkeypatch.setattr(platform, "observed_conditions", lambda c=conditions: c)
        assert entry.stale_sides(entry.observe()) == stale, conditions
        if not stale:
            texts.append(render.render_markdown([entry]))
    monkeypatch.setattr(platform, "observed_conditions", lambda: _on())
    texts.append(render.render_markdown([entry]))
    assert len(set(texts)) == 1
    text = texts[0]
    assert "Documented values depend on the platform" in text
    assert text.count("Documented, ") == 4  # two conditions with two distinct expectations each
    for label in ("TensorFlow with oneDNN on, torch CPU capability AVX512",
                  "TensorFlow with oneDNN off, torch CPU capability DEFAULT or AVX2"):
        assert f"Documented, {label}:" in text
    assert "| value | `[1, 1]` | `3` |" in text and "| value | `[0, 1]` | `2` |" in text


def test_platform_variants_must_cover_every_value():
    """A ByPlatform that forgets a condition value (or names an unknown condition) is rejected, by name."""
    from equivalence.differences import ByPlatform, MalformedDifference

    with pytest.raises(MalformedDifference, match=r"keys cover \['AVX512'\], expected each of"):
        ByPlatform("torch_cpu_capability", {"AVX512": 1})
    with pytest.raises(MalformedDifference, match="condition 'moon_phase' is not one of"):
        ByPlatform("moon_phase", {True: 1, False: 2})


def test_unsupported_limitation_is_asserted_not_skipped(monkeypatch):
    """A documented limitation makes the selected test assert the error where it applies: the check fails when
    the side runs instead, or raises something else; elsewhere it is not active."""
    from equivalence import platform
    from equivalence.differences import Unsupported, by_id

    lim = Unsupported("tf", {"tf_onednn": (False,)}, "ValueError", "not supported")
    assert lim.active(_on(tf_onednn=False)) and not lim.active(_on())
    with lim.expected_error("x"):
        raise ValueError("grouped: not supported here")
    with pytest.raises(AssertionError, match="'x' is stale: tf was documented to raise ValueError"):
        with lim.expected_error("x"):
            pass
    with pytest.raises(AssertionError, match="documented tf to raise ValueError matching 'not supported' here, got "
                                             "TypeError"):
        with lim.expected_error("x"):
            raise TypeError("other")
    entry = by_id("tf-grouped-conv-grad-needs-onednn")
    assert entry.unsupported is not None and entry.matches("grad", "conv2d-groups2")
    monkeypatch.setattr(platform, "observed_conditions", lambda: _on(tf_onednn=False))
    from equivalence import differences

    assert [e.id for e, _ in differences.unsupported_here("grad", "conv2d-groups2")] == [entry.id]


@pytest.mark.parametrize("value, text", [
    (0.1, "0.1"), (float("nan"), "nan"), (float("-inf"), "-inf"), (-0.0, "-0"), (2**31, "2147483648"),
    (True, "True"), (None, "None"), ([1.0, [2.5]], "[1, [2.5]]"), ({"a": 1e-12}, "{a: 1e-12}"),
])
def test_fmt_is_short_and_exact_enough(value, text):
    """Observed values print compactly (7 significant digits), keeping -0, NaN and inf visible."""
    assert render.fmt(value) == text


def test_cli_writes_and_checks(tmp_path, monkeypatch, capsys):
    """The CLI writes Markdown and HTML, `--check` passes on fresh files and fails (exit 1) on an edited one."""
    monkeypatch.setattr(render, "DIFFERENCES", FAKES[:1])
    md, page = tmp_path / "D.md", tmp_path / "d.html"
    assert render.main(["--out", str(md), "--html", str(page)]) == 0
    assert "agrees-as-written" in md.read_text() and '<section id="agrees-as-written">' in page.read_text()
    assert render.main(["--out", str(md), "--html", str(page), "--check"]) == 0
    md.write_text(md.read_text() + "hand edit\n")
    assert render.main(["--out", str(md), "--check"]) == 1
    assert "differs from a fresh render; regenerate with" in capsys.readouterr().out


def test_cli_exit_code_reports_stale_entries(tmp_path, monkeypatch, capsys):
    """Rendering a catalogue with a stale entry still writes the file but exits 1 and names the entry."""
    monkeypatch.setattr(render, "DIFFERENCES", FAKES)
    assert render.main(["--out", str(tmp_path / "D.md")]) == 1
    err = capsys.readouterr().err
    assert "catalogue entry 'now-stale' is stale" in err and "catalogue entry 'witness-breaks' could not be observed" in err


class _Item:
    """The two things the selector check reads from a collected pytest item."""

    def __init__(self, markers: tuple[str, ...], callspec_id: str | None):
        self._markers = [types.SimpleNamespace(name=m) for m in markers]
        self.callspec = types.SimpleNamespace(id=callspec_id) if callspec_id else None

    def iter_markers(self):
        return iter(self._markers)


@pytest.mark.parametrize("selector, matched", [
    ("op:floor_divide", True), ("ops:floor_divide:float32", True), ("op:floor_divide:int32", False),
    ("op:remainder", False), ("op:sum", True), ("op:sum-keras:int32", True), ("op:keras-int32", True),
    ("op:eras", False), ("*:dense", True), ("layer:*", True), ("optim:adam", None), ("loss:mse", None),
])
def test_selector_matching(selector, matched):
    """A selector matches a test carrying the family marker and the name/dtype as whole id words; families with
    no collected test are not judged (None)."""
    items = [_Item(("ops",), "floor_divide-float32"), _Item(("ops",), "sum-keras-int32"),
             _Item(("layers",), "dense-same_padding-float32"), _Item((), None)]
    entry = _fake("selector-entry", {"tf": 1, "torch": 2}, applies_to=(selector,))
    unmatched = plugin.unmatched_selectors([entry], items)
    expected = [] if matched in (True, None) else [f"selector-entry: {selector}"]
    assert unmatched == expected


def test_selector_with_unknown_family_is_always_reported():
    """A misspelt family can never match, so it is reported even when no test of any family was collected."""
    entry = _fake("typo-entry", {"tf": 1, "torch": 2}, applies_to=("opp:sum",))
    (line,) = plugin.unmatched_selectors([entry], [])
    assert line.startswith("typo-entry: opp:sum (unknown family 'opp'; known: ")


def test_report_header_counts_entries(request):
    """The pytest header line states how many entries and gotchas the catalogue holds."""
    (line,) = plugin.pytest_report_header(request.config)
    gotchas = sum(d.gotcha for d in DIFFERENCES)
    assert line.startswith(f"catalogue: {len(DIFFERENCES)} known differences ({gotchas} gotchas)")


def test_catalogue_is_large_and_covers_every_area():
    """The catalogue holds at least 50 entries and every area of the issue has at least one."""
    assert len(DIFFERENCES) >= 50, f"only {len(DIFFERENCES)} entries"
    missing = set(AREAS) - {d.area for d in DIFFERENCES}
    assert not missing, f"areas with no entry: {sorted(missing)}"


def test_nested_platform_expectation_needs_both_conditions(monkeypatch):
    """A ByPlatform inside a ByPlatform (an effect that needs two conditions at once, like oneDNN on AND its
    AVX-512 kernels) is asserted per platform and rendered as one variant per distinct expectation."""
    from equivalence import platform
    from equivalence.differences import ByPlatform

    entry = _fake("nested-platform", {"tf": "crashes", "torch": 1},
                  {"tf": ByPlatform("tf_onednn", {True: ByPlatform("onednn_cpu_isa", {"AVX512": "crashes",
                                                                                        ("AVX2", "SSE41"): 1}),
                                                  False: 1}),
                   "torch": 1})
    assert entry.platform_conditions == ("onednn_cpu_isa", "tf_onednn")
    for conditions, stale in ((_on(), []), (_on(onednn_cpu_isa="AVX2"), ["tf"]), (_on(tf_onednn=False), ["tf"])):
        monkeypatch.setattr(platform, "observed_conditions", lambda c=conditions: c)
        assert entry.stale_sides(entry.observe()) == stale, conditions
    labels = [cond for cond, values in entry.variants() if values["tf"] == "crashes"]
    assert labels == [{"onednn_cpu_isa": ("AVX512",), "tf_onednn": (True,)}]
    assert len(entry.variants()) == 2  # "crashes" on oneDNN AVX-512, 1 everywhere else
