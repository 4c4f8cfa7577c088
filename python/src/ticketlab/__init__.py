"""Read a TicketLab experiment store from Python: experiments, runs, results, metrics, weights and
masks, and the analyses stored as JSON, as pandas DataFrames and numpy arrays.

>>> import ticketlab
>>> store = ticketlab.Store("~/store")            # the folder given to `ticketlab --root`
>>> store.results("lottery", metric="final_test_accuracy")
"""

import os as _os

from .metrics import read_metrics
from .store import Store, default_root, kind_of, lock_held, run_state
from .tensors import (ChecksumError, TensorFile, TensorFileError, checksum, read_tensor_file, read_tensors,
                      verify_checkpoint, verify_run, write_tensors)

__version__ = "0.1.0"

__all__ = ["Store", "read_metrics", "read_tensors", "read_tensor_file", "write_tensors", "checksum",
           "verify_checkpoint", "verify_run", "ChecksumError", "TensorFileError", "TensorFile", "default_root", "kind_of",
           "lock_held", "run_state", "open_store"]


def open_store(root=None) -> Store:
    """The store named by ``root``, else ``$TICKETLAB_STORE``, else TicketLab's own default
    (``$TICKETLAB_ROOT``, else ``~/.local/share/ticketlab/experiments``)."""
    return Store(_os.path.expanduser(root or _os.environ.get("TICKETLAB_STORE") or default_root()))
