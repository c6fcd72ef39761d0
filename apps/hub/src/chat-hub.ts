import { defineHub, HubError } from '@switchboard/hub-server';

/** Methods the chat hub calls on browsers. */
export interface ChatClient {
  ReceiveMessage(user: string, message: string): void;
}

/** Longest chat message accepted, in characters. */
export const MAX_CHAT_MESSAGE = 4000;

/** The seed's chat: `SendMessage(user, message)` reaches every client as `ReceiveMessage(user, message)`. */
export const chatHub = defineHub<ChatClient>()({
  methods: {
    async SendMessage(ctx, user: unknown, message: unknown) {
      if (typeof user !== 'string' || typeof message !== 'string') {
        throw new HubError('SendMessage takes two strings: (user, message).');
      }
      if (message.length > MAX_CHAT_MESSAGE || user.length > 200) {
        throw new HubError(`SendMessage: the user name is limited to 200 characters and the message to ${MAX_CHAT_MESSAGE}.`);
      }
      await ctx.clients.all.ReceiveMessage(user, message);
    },
  },
});
