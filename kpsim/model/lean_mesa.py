"""Import mesa without the parts kpsim never uses: its grids and networks, its continuous space and its batch runner.

`import mesa` runs all of mesa/__init__, which imports mesa.discrete_space (scipy.spatial and networkx),
mesa.space and mesa.batchrunner: about half a second of every command's start, and of every worker server's
(measured with `python -X importtime`), for modules kpsim does not call. Each is put in sys.modules as a
stand-in that imports the real module the first time anything reads from it (the browser view, a user's own
grid), so mesa behaves as before for whoever uses them. mesa names its loggers with inspect.stack() and inspect.getouterframes(),
which read the source of every frame on the stack (0.1–0.2 s); the names are read from the caller's frame instead.
Pinned to mesa 3.5 (pyproject.toml); tests/model/test_lean_mesa.py checks both halves.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
import types

DEFERRED = ("mesa.discrete_space", "mesa.space", "mesa.batchrunner", "mesa.experimental.continuous_space")


class _Deferred(types.ModuleType):
    """A module imported on first use: any attribute read imports the real one and is answered from it.

    Dunder names are not a use: the import system asks for __path__, and inspect for __file__, of every module.
    A package's stand-in has the real __path__, so its submodules import as usual.
    """

    def __init__(self, name: str, path: str | None):
        super().__init__(name)
        if path is not None:
            self.__path__ = [path]

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)  # sets the parent package's attribute to the real module
        self.__dict__.update(real.__dict__)  # whoever kept the stand-in reads the real module's names from now on
        return getattr(real, attr)


def import_mesa() -> types.ModuleType:
    """mesa, with DEFERRED left unimported until used (if mesa is not imported yet) and its logger named cheaply."""
    spec = importlib.util.find_spec("mesa")  # finds the package without importing it
    if "mesa" not in sys.modules and spec is not None and spec.origin is not None:
        root = os.path.dirname(spec.origin)
        for name in DEFERRED:
            folder = os.path.join(root, *name.split(".")[1:])
            sys.modules.setdefault(name, _Deferred(name, folder if os.path.isdir(folder) else None))
        _quick_logger_names(root)
    import mesa

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
