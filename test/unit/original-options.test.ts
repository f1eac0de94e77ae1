// The original's command line and args file, as boost::program_options reads
// them (nettracersrv/nettracer.cpp getOptionsDescription(), parseOptions(),
// parseArgsFile()).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  originalUnsigned,
  originalValue,
  OriginalUsageError,
  parseOriginalArgs,
  parseOriginalArgsFile,
} from '../../src/cli/original-options.js';

describe("the original's options", () => {
  it('--name value, --name=value, -xVALUE, -x VALUE, a long prefix, grouped switches', () => {
    const vm = parseOriginalArgs([
      '--time_interval',
      '10',
      '--map_size=99',
      '-dtrace',
      '-l',
      '/var/log',
      '--counters',
      '0',
      '-fin',
    ]);
    assert.equal(originalValue(vm, 'time_interval'), '10');
    assert.equal(originalValue(vm, 'map_size'), '99');
    assert.equal(originalValue(vm, 'debug'), 'trace');
    assert.equal(originalValue(vm, 'log'), '/var/log');
    assert.equal(originalValue(vm, 'counters_interval'), '0');
    assert.deepEqual([vm.get('with_loopback'), vm.get('incremental'), vm.get('no_stdout_log')], [true, true, true]);
    assert.equal(originalValue(parseOriginalArgs(['-t10']), 'time_interval'), '10');
    assert.equal(originalValue(parseOriginalArgs([]), 'time_interval'), '30', 'the default');
  });

  it("boost's errors", () => {
    const err = (argv: string[]) => {
      try {
        parseOriginalArgs(argv);
      } catch (e) {
        assert.ok(e instanceof OriginalUsageError);
        return e.message;
      }
      return '';
    };
    assert.equal(err(['-t', '1', '-t', '2']), "option '--time_interval' cannot be specified more than once");
    assert.equal(err(['--c']), "option '--c' is ambiguous and matches '--clear_probes', and '--counters_interval'");
    assert.equal(err(['-x']), "unrecognised option '-x'");
    assert.equal(err(['extra']), 'too many positional options have been specified on the command line');
    assert.equal(err(['-t=10']), "the argument ('=10') for option '--time_interval' is invalid", 'no = after a letter');
  });

  it('lexical_cast<unsigned>: digits and a sign; a minus wraps', () => {
    assert.equal(originalUnsigned('30'), 30);
    assert.equal(originalUnsigned('-1'), 4294967295);
    assert.equal(originalUnsigned('4294967296'), undefined);
    assert.equal(originalUnsigned('1e3'), undefined);
    assert.equal(originalUnsigned(' 5'), undefined);
  });

  it('the args file: name=value, comments, sections; a switch is set whatever its value', () => {
    const vm = parseOriginalArgsFile('# comment\ntime_interval = 5\nnoninteractive=0\n\nlog=/tmp/x # trailing\n');
    assert.equal(originalValue(vm, 'time_interval'), '5');
    assert.equal(vm.get('noninteractive'), true, 'noninteractive=0 sets it, as boost does');
    assert.equal(originalValue(vm, 'log'), '/tmp/x');
    assert.throws(() => parseOriginalArgsFile('[x]\ntime_interval=1\n'), /unrecognised option 'x.time_interval'/);
    assert.throws(() => parseOriginalArgsFile('nonsense\n'), OriginalUsageError);
  });
});
