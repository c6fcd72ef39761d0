import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { connectChat, connectJobs, connectSystem, hubErrorCode, hubErrorMessage, type ClientOptions, type ConnectionInfo } from '@switchboard/client';
import { mountChat } from './chat-view.js';
import { byId, setAttr, setText } from './dom.js';
import { JobsView } from './jobs-view.js';
import { OperatorView } from './operator-view.js';
import { SchemaForm } from './schema-form.js';
import { StatusView } from './status-view.js';
import { SystemView } from './system-view.js';
import { UpdateDelays } from './update-delays.js';
import { mountTokenForm, storedToken } from './token-form.js';
import { WatchedStore } from './watched-store.js';

// `?protocol=messagepack` switches every connection to the MessagePack hub protocol.
const messagepack = new URLSearchParams(location.search).get('protocol') === 'messagepack';
const storage = (() => {
  try {
    return window.localStorage;
  } catch {
    return undefined; // storage blocked: the page still works, it just forgets on reload
  }
})();
// The access token (hub nodes with AUTH_REQUIRED) lives in sessionStorage: this tab only.
const session = (() => {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
})();
const accessToken = storedToken(session);
function options(reconnectDelays: number[]): ClientOptions {
  // persistent: a dashboard comes back by itself, also after a failed first start.
  return {
    persistent: true,
    reconnectDelays,
    ...(messagepack ? { protocol: new MessagePackHubProtocol() } : {}),
    ...(accessToken ? { accessTokenFactory: () => accessToken } : {}),
  };
}

const jobs = connectJobs('', options([0, 1000, 2000, 3000]));
const chat = connectChat('', options([0, 1000, 2000, 3000]));
// The system hub may not exist on this node (yet): retry slowly.
const system = connectSystem('', options([0, 2000, 5000, 10000]));
new StatusView({ jobs, chat, system });
mountTokenForm(session, [jobs, chat], () => location.reload());

// Jobs: the list, remembered ids, the form.
const watched = new WatchedStore(storage);
const view = new JobsView(byId<HTMLUListElement>('jobs'), byId('jobs-empty'), byId('job-announcer'), {
  cancel: (jobId) => {
    view.cancelling(jobId);
    jobs.cancel(jobId).then(
      (cancelled) => {
        if (!cancelled) view.problem(jobId, 'Not cancelled: the job had already ended.');
      },
      (err: unknown) => view.problem(jobId, `Cancel failed: ${hubErrorMessage(err)}`),
    );
  },
  remove: (jobId) => forget(jobId),
});

function forget(jobId: string): void {
  watched.remove(jobId);
  view.remove(jobId);
  jobs.unwatch(jobId).catch(() => {}); // the list no longer shows it either way
}

/** Watches a job; an id the hub no longer knows (expired after 24 h) leaves the list. */
function watch(jobId: string): void {
  jobs.watch(jobId).catch((err: unknown) => {
    if (hubErrorCode(err) === 'SB_JOB_NOT_FOUND') {
      view.announce(`Job ${jobId} is no longer known to the hub; removed from the list.`);
      forget(jobId);
    } else if (hubErrorCode(err) === 'SB_JOB_FORBIDDEN') {
      // Remembered by this browser for another user (another access token): not ours to show.
      view.announce(`Job ${jobId} belongs to another user; removed from the list.`);
      forget(jobId);
    }
    // Otherwise the connection is down: the client watches it again once it is back.
  });
}

const delays = new UpdateDelays();
jobs.onJobUpdated((u, { live }) => {
  // Snapshots answer a watch and can be hours old: only pushed updates measure the live path.
  if (live) delays.record(u.updatedAt, Date.now());
  view.update(u);
});
jobs.onWatchError((jobId, err) => {
  const code = hubErrorCode(err);
  // A job that was being watched and is gone now shows `lost` (the client's last update); it leaves
  // the stored list, and "Clear finished" removes it from the page.
  if (code === 'SB_JOB_NOT_FOUND') watched.remove(jobId);
  else if (code === 'SB_JOB_FORBIDDEN') forget(jobId);
  else view.problem(jobId, `Watch failed: ${hubErrorMessage(err)}`);
});
for (const id of [...watched.ids()].reverse()) view.placeholder(id);
setInterval(() => {
  view.tick(Date.now());
  setText(byId('update-delay'), delays.describe());
}, 1000);
byId('clear-finished').addEventListener('click', () => {
  for (const id of view.finished()) forget(id);
});

const form = new SchemaForm(async (name, data, options) => {
  if (jobs.state !== 'connected') throw new Error(`not connected to the jobs hub (${jobs.state}); try again once the status says Connected.`);
  // Enqueued and watched in one round trip: the card misses no update, however fast the job.
  const result = await jobs.enqueue(name, data, { ...options, watch: true }).catch((err: unknown) => {
    throw new Error(hubErrorMessage(err));
  });
  // A duplicate (same idempotency key) answers with the first job: that is the one shown.
  watched.add(result.jobId);
  view.placeholder(result.jobId, name);
  if (!result.snapshot) watch(result.jobId); // a hub that did not watch it along
  return result;
});

// The queue as an operator sees it: pushed list changes, re-read at most 10 times a second.
const operator = new OperatorView(jobs);
jobs.onJobListChanged((change) => operator.changed(change));
jobs.onStateChange(({ state }) => {
  if (state !== 'connected') {
    form.unavailable(state === 'reconnecting' ? 'Reconnecting to the jobs hub…' : 'Connecting to the jobs hub…');
    return;
  }
  // Every (re)connect: the job set may have changed with a deploy, and jobs changed while away.
  jobs.jobTypes().then(
    (types) => {
      form.setTypes(types);
      operator.setTypes(types);
    },
    (err: unknown) => form.unavailable(`Job types unavailable: ${hubErrorMessage(err)}`),
  );
  operator.refresh();
});
setInterval(() => operator.tick(Date.now()), 1000);
void jobs.start().then(() => {
  for (const id of watched.ids()) watch(id);
  // Subscribed once; the client subscribes again after every reconnect.
  jobs.watchList().then(
    (change) => operator.changed(change),
    (err: unknown) => operator.unavailable(hubErrorMessage(err)),
  );
});

// System: who serves us, and live figures (pushed, never polled).
const systemView = new SystemView();
const nodeField = byId('node');
function showNode(info: ConnectionInfo | undefined): void {
  systemView.setSelf(info);
  setAttr(nodeField, 'data-state', info ? 'known' : 'unavailable');
  if (info) {
    nodeField.dataset['nodeId'] = info.nodeId;
    nodeField.dataset['pid'] = String(info.pid);
  } else {
    delete nodeField.dataset['nodeId'];
    delete nodeField.dataset['pid'];
  }
  setText(nodeField, info ? `${info.nodeId} (pid ${info.pid})` : 'unavailable');
}
system.onStats((stats) => systemView.render(stats));
system.onStateChange(({ state, error }) => {
  if (state === 'connected') {
    // Each (re)connect may land on another node: ask again.
    system.whoami().then(showNode, () => showNode(undefined));
    system.stats().then(
      (stats) => systemView.render(stats),
      (err: unknown) => systemView.unavailable(hubErrorMessage(err)),
    );
    return;
  }
  showNode(undefined);
  const reason = error && /\b404\b/.test(error.message) ? 'this hub node has no system hub (yet); retrying.' : state === 'reconnecting' ? 'reconnecting…' : error ? hubErrorMessage(error) : 'connecting…';
  systemView.unavailable(reason);
});
systemView.unavailable('connecting…');

mountChat(chat, storage);
