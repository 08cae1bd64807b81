"""btflearn plot-gap: the gap history of finished runs, from their result.json."""
import pytest

from btflearn import BtfError


def test_plot_gap_reads_result_json(tmp_path):
    pytest.importorskip("matplotlib")
    import json

    from click.testing import CliRunner

    from btflearn.cli.main import cli
    from btflearn.report import gap_histories as read_gap_histories

    run = CliRunner()
    res = run.invoke(cli, ["solve", "multiplier", "--bits", "2", "--trials", "2", "--all-trials", "--max-iter",
                           "600", "--quiet", "--out", str(tmp_path / "r")])
    report = json.loads((tmp_path / "r" / "result.json").read_text())
    curves = read_gap_histories(tmp_path / "r" / "result.json")
    assert len(curves) == 2 and curves[0][1][0][0] == 1          # geometric ticks start at iteration 1
    assert curves[0][1][-1][0] == report["trials"][0]["iterations"]
    png = tmp_path / "gap.png"
    res = run.invoke(cli, ["plot-gap", str(tmp_path / "r" / "result.json"), "-o", str(png)])
    assert res.exit_code == 0 and png.read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(BtfError, match="bad.json: not a btflearn result.json"):
        read_gap_histories(tmp_path / "bad.json")
