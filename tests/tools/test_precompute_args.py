"""tools/precompute_priors.py refuses bad arguments with exit code 2 and a
message naming the argument, before it loads anything."""
import pytest


@pytest.mark.parametrize('args,msg', [
    (['--batch-size', '-1'], "--batch-size: want an integer >= 1, got '-1'"),
    (['--batch-size', '0'], 'want an integer >= 1'),
    (['--batch-size', 'x'], 'want an integer >= 1'),
    (['--shard', 'abc'], "--shard: want i/n with 0 <= i < n (e.g. 0/4)"),
    (['--shard', '4/4'], 'want i/n'),
])
def test_bad_arguments_exit_2_with_the_argument_named(load_tool, capsys,
                                                      args, msg):
    tool = load_tool('precompute_priors')
    with pytest.raises(SystemExit) as exit_:
        tool.main(['configs/demo/hierseg_synthetic_cpu.py'] + args)
    assert exit_.value.code == 2
    assert msg in capsys.readouterr().err
