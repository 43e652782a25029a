"""The README's measurement section quotes the committed studies, never typed numbers: it is
the summary computed from studies/*/report.json and the claims evaluated on them."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _section(title):
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def test_the_section_states_the_protocol():
    text = _section("What the measurements say")
    assert "docs/protocol.md" in text and "development" in text and "prospective" in text


def _script(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_section_is_the_studies_own_summary():
    """Every number and verdict of the section is computed from the committed studies
    (scripts/readme_measurements.py writes it; this test fails when they differ)."""
    module = _script("readme_measurements")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    same = module.replaced(text, module.section()) == text
    assert same, "README.md is out of date: run python scripts/readme_measurements.py"


def test_the_mechanism_summary_is_the_stages_own():
    """studies/mechanisms/MECHANISMS.md is what scripts/mechanisms_summary.py computes from the
    committed reports, and it names every refuted main row no mechanism experiment studies."""
    module = _script("mechanisms_summary")
    text = module.TARGET.read_text(encoding="utf-8")
    assert text == module.text(), "run python scripts/mechanisms_summary.py"
    # each study's report.md is its report.json rendered, with the stage's notes on its
    # departures: the notes name the experiments that study them
    for path, want in module.reports().items():
        assert path.read_text(encoding="utf-8") == want, f"{path}: run the script"
    assert "E18 (" in (ROOT / "studies" / "fashion-mnist" / "report.md").read_text()
    assert "## Refuted rows no mechanism experiment studies" in text
    assert "MECHANISMS.md" in (ROOT / "README.md").read_text(encoding="utf-8")
