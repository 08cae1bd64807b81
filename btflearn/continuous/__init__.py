"""Continuous networks trained by projections (JAX), in the spirit of PJAX (arXiv 2506.05878).

Training without gradients: every elementary op of a network (dot/linear, a dense unit with its bias and
ReLU, sums, max-pooling, a quantiser, the margin box on the outputs) is paired with the exact projection
onto its graph; the computation graph gives each op private copies of its operands, and
divide-and-concur with RRR alternates the op projections with averaging the copies.

Modules, one job each (importing this package imports neither JAX nor the modules below):
- ``projections``: the op projections (JAX, vmapped and jitted by the callers);
- ``graph``: recording a model as op groups over flat value / parameter stores;
- ``layers``: the layer set (dense, conv2d via patches, max-pool, RNN cell), its two interpreters
  (record / compute) and the model zoo (mlp, cnn, rnn);
- ``rrr``: the divide-and-concur program and the mini-batch RRR solver;
- ``adam``: the optax Adam baseline (with a straight-through option for quantisers);
- ``data``: the shipped optdigits set with its fixed split;
- ``train``: runs of either method with timing and accuracy curves.
"""
