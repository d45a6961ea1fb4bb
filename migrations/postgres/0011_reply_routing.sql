-- A reply given on a page that knew the rep (the lesson page, the phone
-- simulator) names its rep; one that came by SMS is routed by the sender it
-- was sent to and the phone it came from.
ALTER TABLE messages ADD COLUMN known_sender boolean NOT NULL DEFAULT false;
