"""Lint a real model: every up-sampling layer of an ONNX file, a torch module or a state dict.

=================  =============================================================
``api``            :func:`lint`, the entry point (``upconv.lint``)
``report``         :class:`LintReport` / :class:`LayerReport`, text and JSON
``thresholds``     every flagging threshold and finding severity, with its why
``graph``          the model as a list of nodes, whatever the source
``onnx_graph``     ONNX reader: attributes, constants, shape propagation
``onnx_shapes``    shapes and constant folding of the non-up-sampling operators
``torch_graph``    torch module reader (one traced forward) and state-dict reader
``checks``         one analyser per kind of up-sampling node
``geometry``       stamp counts, unreached outputs, uneven borders, periods
``weights``        DC-gain spread per output channel, flat-response energy
``semantics``      Resize: the reproducing torch call, runtime traps
``calls``          the equivalent upconv and torch calls as text
``suggest``        artifact-free replacements as torch snippets
``replay``         every layer rerun with upconv against onnxruntime / torch
``draw``           overlap-map and DC-gain figures of flagged layers
=================  =============================================================

``import upconv`` imports only :mod:`upconv.linter.api`; onnx, onnxruntime and
torch are imported when a model needs them.
"""

from upconv.linter.api import lint

__all__ = ["lint"]
