/**
 * The Braid dead-letter console: a single page (Preact) over dlq-admin's
 * JSON API, routed by the URL fragment (`route.ts`). Built into static
 * files by `apps/dlq-admin/bundle-assets.mjs`.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Alerts, fetchAlertRules } from './alerts.js';
import { api } from './api.js';
import type { InfoResponse } from './api.js';
import { Audit } from './audit.js';
import { Overview } from './overview.js';
import { RecordPage } from './record.js';
import { Records } from './records.js';
import { href, useRoute } from './route.js';
import type { Route } from './route.js';
import { TokenPanel } from './token-panel.js';
import { Notice, errorText } from './ui.js';

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.page) {
    case 'overview':
      return <Overview />;
    case 'records':
      return <Records topic={route.topic} subscription={route.subscription} filter={route.filter} />;
    case 'record':
      return <RecordPage topic={route.topic} subscription={route.subscription} partition={route.partition} offset={route.offset} />;
    case 'audit':
      return <Audit />;
    case 'alerts':
      return <Alerts />;
    case 'missing':
      return <Notice kind="error">No page at {route.hash}. <a href="#/">Go to the queues</a></Notice>;
  }
}

function App() {
  const route = useRoute();
  const [info, setInfo] = useState<InfoResponse | undefined>(undefined);
  const [infoError, setInfoError] = useState<string | undefined>(undefined);
  const [alertsServed, setAlertsServed] = useState(false);

  useEffect(() => {
    api.info().then(setInfo, (error: unknown) => { setInfoError(errorText(error)); });
    fetchAlertRules().then(
      (rules) => { setAlertsServed(rules !== undefined); },
      () => { setAlertsServed(false); },
    );
  }, []);

  const section = route.page === 'record' || route.page === 'records' ? 'overview' : route.page;
  const link = (target: Route, label: string, name: string) => (
    <a href={href(target)} aria-current={section === name ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <header class="top">
        <span class="brand">Braid · dead letters</span>
        <nav aria-label="Main">
          {link({ page: 'overview' }, 'Queues', 'overview')}
          {link({ page: 'audit' }, 'Audit log', 'audit')}
          {alertsServed ? link({ page: 'alerts' }, 'Alert rules', 'alerts') : null}
        </nav>
        {info === undefined ? null : <TokenPanel required={info.adminTokenRequired} />}
      </header>
      <main>
        {infoError === undefined ? null : <Notice kind="error">dlq-admin is not answering: {infoError}</Notice>}
        <Page route={route} />
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
