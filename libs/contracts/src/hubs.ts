/** Client methods of the chat hub (`/hubs/chat`). */
export interface ChatClient {
  ReceiveMessage(user: string, message: string): void;
}

/** Server methods of the chat hub. */
export interface ChatServer {
  SendMessage(user: string, message: string): Promise<void>;
}

/** Client methods of the clock hub (`/hubs/clock`). */
export interface ClockClient {
  onTimeReceived(time: string): void;
}
