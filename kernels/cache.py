"""Where Numba caches these kernels: kernels/compiled/ beside their source, or $BTFLEARN_KERNEL_CACHE.

Compiling the RRR kernels takes about ten seconds, so installing btflearn compiles them into that
folder (btflearn.build_backend) and a first run loads them, whatever NUMBA_CACHE_DIR says. The cache is
Numba's own: an entry serves only the same source (a content hash), Numba version and CPU; a stale or
missing one is compiled again and saved there. Where the folder is not writable, Numba's usual places
(NUMBA_CACHE_DIR, __pycache__, the user's cache) serve.
"""
from __future__ import annotations

import os

HOME = os.path.dirname(os.path.abspath(__file__))
ENV = "BTFLEARN_KERNEL_CACHE"


def kernel_cache_folder() -> str:
    return os.environ.get(ENV) or os.path.join(HOME, "compiled")


def use_kernel_folder() -> bool:
    """Make Numba cache the functions of this folder's modules in kernel_cache_folder(); call before
    they are decorated. False when this Numba has no locator list to extend (its caching internals
    moved): the kernels then cache where Numba usually does."""
    from numba.core import caching
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    base = getattr(caching, "InTreeCacheLocator", None) or getattr(caching, "_InTreeCacheLocator", None)
    locators = getattr(impl, "_locator_classes", None)
    if base is None or not isinstance(locators, list):
        return False
    if not any(c.__name__ == "KernelFolderLocator" for c in locators):
        locators.insert(0, _locator(base))
    return True


def _locator(base):
    class KernelFolderLocator(base):
        def __init__(self, py_func, py_file):
            super().__init__(py_func, py_file)
            self._cache_path = kernel_cache_folder()

        @classmethod
        def from_function(cls, py_func, py_file):
            if os.path.dirname(os.path.abspath(py_file)) != HOME:
                return None
            return super().from_function(py_func, py_file)  # None where the folder is not writable
    return KernelFolderLocator
