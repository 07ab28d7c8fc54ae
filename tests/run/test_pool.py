"""The worker server imports every module a command names, before any worker starts."""

import subprocess
import sys
import textwrap


def test_workers_start_with_every_preloaded_module(tmp_path, root):
    script = tmp_path / "preload.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(root)!r})
        from kpsim.run.pool import process_pool, warm_up

        def loaded():
            return [m in sys.modules for m in ("kpsim.run.runner", "kpsim.output.charts")]

        if __name__ == "__main__":
            warm_up(2, ("kpsim.run.runner", "kpsim.output.charts"))
            with process_pool(1) as pool:
                print(pool.submit(loaded).result())
    """))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[True, True]"


def test_a_script_without_the_main_guard_is_told_why_its_workers_died(tmp_path, root):
    """Workers import the script again; without `if __name__ == "__main__":` they run it again and die. Say so."""
    script = tmp_path / "noguard.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(root)!r})
        import kpsim
        kpsim.compare({str(root / "scenarios" / "null_model.yaml")!r}, reps=4000, jobs=2, uncertainty="montecarlo")
    """))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: a kpsim worker process died"), res.stderr[-2000:]
    assert 'if __name__ == "__main__":' in last and "jobs=1" in last
