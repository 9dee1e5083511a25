/**
 * The admin token (for redrive, purge and alert rule changes when dlq-admin has
 * `BRAID_ADMIN_TOKEN`) and the name written to the audit log, both kept in
 * sessionStorage for this tab only.
 */
import { useState } from 'preact/hooks';
import { api, storeActor, storeToken, storedActor, storedToken } from './api.js';
import { errorText } from './ui.js';

export function TokenPanel(props: { required: boolean }) {
  const [token, setToken] = useState(storedToken);
  const [actor, setActor] = useState(storedActor);
  const [status, setStatus] = useState<string>(storedToken() === '' ? (props.required ? 'no token set' : '') : 'saved');

  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    storeToken(token.trim());
    storeActor(actor.trim());
    if (!props.required) {
      setStatus('saved');
      return;
    }
    setStatus('checking…');
    try {
      setStatus((await api.checkToken()) ? 'token accepted' : 'token refused');
    } catch (error) {
      setStatus(errorText(error));
    }
  };

  return (
    <form class="token" aria-label="Admin token" onSubmit={(event) => { void save(event); }} data-testid="token-form">
      <label>
        Admin token{' '}
        <input
          type="password"
          name="token"
          autoComplete="off"
          placeholder={props.required ? 'required for changes' : 'not required here'}
          value={token}
          onInput={(event) => { setToken(event.currentTarget.value); }}
          data-testid="token-input"
        />
      </label>
      <label>
        Your name{' '}
        <input type="text" name="actor" class="narrow" placeholder="console" value={actor} onInput={(event) => { setActor(event.currentTarget.value); }} data-testid="actor-input" />
      </label>
      <button type="submit">Save</button>
      <span role="status" class="muted small" data-testid="token-status">{status}</span>
    </form>
  );
}
