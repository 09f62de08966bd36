import { ClusterCommandError, failedWith } from './cluster-etcd.js';
import { configPushCommand } from './cluster-push.js';
import { overrideCommand } from './cluster-override.js';
import { ExitCode, type CommandOutcome } from './outcome.js';

/** Usage text of `steerdns cluster`. */
export const CLUSTER_USAGE = `usage (FILE is a node configuration with cluster:, the etcd to talk to):
  steerdns cluster override set MEMBER (--admin drain|disable|enable | --health up|down)
                                    [--for DURATION] [--reason TEXT] --config FILE
  steerdns cluster override clear MEMBER --config FILE
  steerdns cluster override list --config FILE [--json]
  steerdns cluster config push NEW.yaml --config FILE [--timeout DURATION] [--no-wait]
                                    (checks NEW.yaml here, stores it in etcd, and prints
                                    each node's outcome; exit 1 if any node rejects it)

  MEMBER is "SERVICE POOL/MEMBER", e.g. "www.example.org main/a".`;

/**
 * `steerdns cluster ...`: what operators share through etcd. Exit 0 done; 1 a file, etcd
 * or a node failed; 2 the command line is wrong (an unknown member too).
 */
export async function clusterCommand(args: readonly string[]): Promise<CommandOutcome> {
  const [group, ...rest] = args;
  try {
    if (group === 'override') return await overrideCommand(rest);
    if (group === 'config' && rest[0] === 'push') return await configPushCommand(rest.slice(1));
    if (group === undefined || group === '--help' || group === 'help')
      return {
        out: [CLUSTER_USAGE],
        errors: [],
        exitCode: group === undefined ? ExitCode.usage : ExitCode.ok,
      };
    throw new ClusterCommandError([`unknown command "${args.join(' ')}"`], ExitCode.usage);
  } catch (error) {
    const code = (error as { code?: string } | undefined)?.code;
    if (code?.startsWith('ERR_PARSE_ARGS_') === true)
      return {
        out: [],
        errors: [`steerdns cluster: ${(error as Error).message}`, CLUSTER_USAGE],
        exitCode: ExitCode.usage,
      };
    if (!(error instanceof ClusterCommandError)) throw error;
    const outcome = failedWith(error);
    return error.showUsage ? { ...outcome, errors: [...outcome.errors, CLUSTER_USAGE] } : outcome;
  }
}
