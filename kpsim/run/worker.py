"""What a local worker process has ready before its first task: the forkserver imports this module once (and
nothing else does), and its workers fork with it done.

The runner's modules, and the compiled kernels of the setter chair and of noisy stances (importing numba and
loading their cache cost about 0.6 s, paid once by the server while the command
itself is still starting, not by every worker in its first batch).
"""

import signal

# Ctrl-C reaches the whole process group, and the command stops its workers and their server itself: a server
# still importing would print a KeyboardInterrupt traceback (it ignores Ctrl-C only once it has imported)
signal.signal(signal.SIGINT, signal.SIG_IGN)

from kpsim.model.actors import compiled  # noqa: E402
from kpsim.run import runner  # noqa: E402,F401  (the tasks' module)

compiled()  # the kernels, imported and warmed up (kpsim.model.chances.warm_up)
