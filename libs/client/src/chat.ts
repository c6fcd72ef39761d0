import type { ChatClient, ChatServer } from '@switchboard/contracts';
import { HubClient } from './hub-client.js';

/** A connection to the chat hub (`/hubs/chat`): every client on every node gets every message. */
export class ChatConnection extends HubClient<ChatServer, ChatClient> {
  /** Sends a message to everyone (this client included). */
  send(user: string, message: string): Promise<void> {
    return this.invoke('SendMessage', user, message);
  }

  /** Gets every message; returns a function that removes the handler. */
  onMessage(handler: (user: string, message: string) => void): () => void {
    return this.on('ReceiveMessage', handler);
  }
}
