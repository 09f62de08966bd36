import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { linuxAddressHolder, type AddressHolder } from '../../src/cluster/address.js';
import { runSubprocess } from '../../src/lib/subprocess.js';
import { addressesOf, canCreateNamespaces, createLab, type Lab } from '../helpers/netns.js';

/**
 * The service address holder on real interfaces: two hosts in network namespaces on one
 * bridge; one adds the service address (and sends its gratuitous ARP), the other reaches it,
 * then it is deleted and is unreachable again.
 */
describe('linuxAddressHolder in network namespaces', { skip: !canCreateNamespaces() }, () => {
  let lab: Lab;
  let holder: AddressHolder;
  const service = { address: '192.0.2.53', prefixLength: 24, interface: 'eth0' };

  before(async () => {
    lab = await createLab({
      hosts: [
        { name: 'n1', ipv4: '192.0.2.11' },
        { name: 'n2', ipv4: '192.0.2.12' },
        { name: 'n3', ipv4: '192.0.2.13' },
      ],
    });
    holder = holderIn('n1');
  });

  const holderIn = (host: string): AddressHolder =>
    linuxAddressHolder((argv) =>
      runSubprocess([...lab.hosts[host]!.prefix, ...argv], {
        maxOutputBytes: 4096,
        stderr: 'output',
        timeoutMs: 5000,
      }),
    );
  const macOf = async (host: string): Promise<string> =>
    /link\/ether ([0-9a-f:]{17})/.exec(
      await lab.hosts[host]!.run(['ip', 'link', 'show', 'eth0']),
    )![1]!;
  const neighbourMac = async (host: string, address: string): Promise<string | undefined> =>
    /lladdr ([0-9a-f:]{17})/.exec(
      await lab.hosts[host]!.run(['ip', 'neigh', 'show', address]),
    )?.[1];
  after(async () => {
    await lab.remove();
  });

  const ping = (from: string, to: string) =>
    runSubprocess(['ip', 'netns', 'exec', lab.hosts[from]!.ns, 'ping', '-c', '1', '-W', '1', to], {
      maxOutputBytes: 2048,
      timeoutMs: 5000,
    });

  it('adds the address (twice is fine), which a neighbour then reaches', async () => {
    await holder.add([service]);
    await holder.add([service]);
    assert.deepEqual(await addressesOf(lab.hosts['n1']!), ['192.0.2.11', '192.0.2.53']);
    assert.equal((await ping('n2', '192.0.2.53')).failure, undefined);
  });

  it('the gratuitous ARP moves a neighbour that knew the address on another host', async () => {
    assert.equal(await neighbourMac('n2', '192.0.2.53'), await macOf('n1'));
    await holder.remove([service]);
    await holderIn('n3').add([service]);
    // No ping in between: only the gratuitous ARP can have told n2.
    assert.equal(await neighbourMac('n2', '192.0.2.53'), await macOf('n3'));
    await holderIn('n3').remove([service]);
    await holder.add([service]);
    assert.equal(await neighbourMac('n2', '192.0.2.53'), await macOf('n1'));
  });

  it('deletes the address (twice is fine); the neighbour no longer reaches it', async () => {
    await holder.remove([service]);
    await holder.remove([service]);
    assert.deepEqual(await addressesOf(lab.hosts['n1']!), ['192.0.2.11']);
    assert.notEqual((await ping('n2', '192.0.2.53')).failure, undefined);
  });

  it('an address on an interface that does not exist is an error that names it', async () => {
    await assert.rejects(
      holder.add([{ ...service, interface: 'nosuch0' }]),
      /cannot add 192\.0\.2\.53\/24 on nosuch0/,
    );
  });
});
