"""Import mesa without the parts kpsim never uses: its grids and networks and its continuous space.

`import mesa` runs all of mesa/__init__, which imports mesa.discrete_space (scipy.spatial and networkx)
and mesa.space: about half a second of every command's start, and of every worker server's
(measured with `python -X importtime`), for modules kpsim does not call (mesa.batchrunner is not deferred: mesa/__init__ reads batch_run from it at once). While mesa imports, each is a stand-in in
sys.modules, which mesa binds as its attribute; taken out after, the stand-in imports the real module the first
time anything reads from it, and any import of the module or its submodules is a plain one (the browser view, a
user's own grid), so mesa behaves as before for whoever uses them. mesa names its loggers with inspect.stack() and inspect.getouterframes(),
which read the source of every frame on the stack (0.1–0.2 s); the names are read from the caller's frame instead.
Pinned to mesa 3.5 (pyproject.toml); tests/model/test_lean_mesa.py checks both halves.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
import threading
import types

# not mesa.batchrunner: mesa/__init__ reads batch_run from it, so a stand-in would be loaded at once
DEFERRED = ("mesa.discrete_space", "mesa.space", "mesa.experimental.continuous_space")
_LOADING = threading.RLock()  # two threads' first reads must not both take a stand-in out of sys.modules


class _Deferred(types.ModuleType):
    """What mesa/__init__ (and mesa.experimental's) bind as mesa.space, mesa.discrete_space, …: any attribute read
    imports the real module and is answered from it.

    It is in sys.modules only while mesa itself imports, and taken out after: from then on `import mesa.space`,
    `from mesa.discrete_space import X`, `import mesa.discrete_space.grid` or unpickling a grid import the real
    module as usual (a package before its submodules) and set the parent's attribute to it. Dunder names other
    than __all__ (which `from … import *` reads) are not a use: inspect asks for __file__ of every module.
    """

    def __init__(self, name: str, path: str | None):
        super().__init__(name)
        if path is not None:  # while mesa imports: its submodules would import as usual
            self.__path__ = [path]

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__") and attr != "__all__":
            raise AttributeError(attr)
        with _LOADING:
            if sys.modules.get(self.__name__) is self:  # read while mesa imports (mesa 3.5 does not)
                del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)  # sets the parent package's attribute to the real module
            self.__dict__.update(real.__dict__)  # whoever kept the stand-in reads the real module's names from now on
        return getattr(real, attr)

    def __dir__(self):  # dir() is a use too
        try:
            self.__getattr__("__all__")
        except AttributeError:  # loaded, without an __all__
            pass
        return sorted(self.__dict__)


def import_mesa() -> types.ModuleType:
    """mesa, with DEFERRED left unimported until used (if mesa is not imported yet) and its logger named cheaply."""
    spec = importlib.util.find_spec("mesa")  # finds the package without importing it
    standing = []
    if "mesa" not in sys.modules and spec is not None and spec.origin is not None:
        root = os.path.dirname(spec.origin)
        for name in DEFERRED:
            folder = os.path.join(root, *name.split(".")[1:])
            standin = _Deferred(name, folder if os.path.isdir(folder) else None)
            if sys.modules.setdefault(name, standin) is standin:
                standing.append(standin)
        _quick_logger_names(root)
    try:
        import mesa
    finally:
        for standin in standing:  # out of sys.modules: any import of it, or of its submodules, is a plain one from now on
            if sys.modules.get(standin.__name__) is standin:
                del sys.modules[standin.__name__]

    if "mesa.mesa_logging" in sys.modules and not hasattr(mesa, "mesa_logging"):  # loaded ahead: the package's attribute, as import gives it
        mesa.mesa_logging = sys.modules["mesa.mesa_logging"]
    return mesa


def _quick_logger_names(root: str) -> None:
    """mesa.mesa_logging loaded ahead of its package; the module and class names its loggers take read from the caller's
    frame (what inspect.stack() and inspect.getouterframes() give, without reading every frame's source)."""
    if "mesa.mesa_logging" in sys.modules:
        return
    own = importlib.util.spec_from_file_location("mesa.mesa_logging", os.path.join(root, "mesa_logging.py"))
    if own is None or own.loader is None:
        return
    module = importlib.util.module_from_spec(own)
    sys.modules["mesa.mesa_logging"] = module
    own.loader.exec_module(module)
    original = module.create_module_logger

    def create_module_logger(name: str | None = None):
        return original(name if name is not None else sys._getframe(1).f_globals["__name__"])

    def method_logger(name: str):
        logger, classname = module.get_module_logger(name), sys._getframe(1).f_code.co_name

        def real_decorator(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                logger.debug(f"calling {classname}.{func.__name__} with {args[1::]} and {kwargs}")
                return func(*args, **kwargs)

            return wrapper

        return real_decorator

    create_module_logger.__doc__, method_logger.__doc__ = original.__doc__, module.method_logger.__doc__
    module.create_module_logger, module.method_logger = create_module_logger, method_logger
