# English catalogue. Every key exists in es.ftl too; a test checks it.

lang-name = English
nav-back-home = Back to the start
nav-back-list = Back to the list
footer-reporter = This site uses no JavaScript, loads nothing from other sites, and does not keep your IP address or the exact time of your messages (only the day).
footer-staff-link = Staff sign-in
footer-staff = Staff area. What you read here is decrypted for you alone; do not copy it out of the system.

err-title = That did not work
err-not-found = We could not find what you are looking for. Check the address or go back to the start.
err-no-reader = You left out everyone who could read your message. Keep at least one person ticked so it can be sent.
err-empty = The message is empty. Write your question or report; everything else you entered was kept.
err-too-long = The message is too long: the limit is { $limit } characters. Split it in two; you can send the rest as a reply afterwards.
err-nul = The message contains a null (invisible) character we cannot store. Paste the text into a plain editor, remove odd characters and try again.
err-not-text = The message is not valid text. Type it again or paste it from a plain editor.
err-attachment-too-large = A file is too large: the limit is { $limit } MiB per file. Nothing from this submission was kept; try again without that file.
err-too-many-attachments = Too many files: the limit is { $limit }. Nothing from this submission was kept.
err-thread-full = This conversation has reached its limit of { $limit } messages.
err-wrong-receipt = That receipt does not open any conversation. Check that all ten words are there and in order, and try again.
err-wrong-login = The user name or password is not right.
err-busy = The service is busy right now. Wait a few seconds and try again; nothing was lost.
err-forbidden = You cannot do this.
err-bad-status = That status change is not possible from the current status.
err-weak-password = That password is too easy to guess. Use at least 12 characters; a phrase of several uncommon words works well.
err-taken = That name already exists.
err-invalid = Some field is not valid. Check the form.
err-internal = Something failed on our side. Your information was not sent anywhere; try again later.
err-cross-site = This form came from another site and was not accepted. Open this page directly and try again.
err-form = We could not read the form. Go back to the previous page and try again.
err-form-too-large = The form is too long. Go back to the previous page and check what you entered.
err-session-ended = Your session ended (for safety it closes after a while without activity). Sign in again with your receipt.
err-withdraw-unsure = To withdraw the conversation, tick the confirmation box.
err-method = That address does not accept this action. Go back to the start and use the links and buttons on the page.
err-password-mismatch = The two passwords do not match.

home-title = Ask about public ethics or report wrongdoing, anonymously
home-lead = Here you can ask an ethics question or report wrongdoing without saying who you are. No account or e-mail is needed: when you send, you get a ten-word receipt to come back and read the answers.
home-choose-entity = Choose the institution
home-no-entities = No institution has been registered yet.
home-return-title = Already sent something?
home-return-text = Come back with your receipt to read the answers and continue the conversation.
home-return-link = Sign in with my receipt

safety-title = Before you write, stay safe
safety-device = Do not use a work computer or network: they can record what you visit.
safety-tor = The safest way is Tor Browser on a personal device; this site works at its highest security level.
safety-style = Avoid details only you know (exact dates, your own turns of phrase, file names) unless they are needed.
safety-metadata = Files can carry hidden data (author, computer, location, dates). Remove it before attaching them.

role-coordinator = coordination
role-advisor = advisor
role-entity-admin = institution administration

entity-who-reads = Who will be able to read what you send
entity-who-reads-text = Your message is encrypted so that only these coordinators can read it (you may exclude any of them below):
entity-advisors-later = Later, coordination may assign your conversation to advisors, who will also be able to read it. You will always see who can read it when you come back with your receipt. The server cannot read it.
entity-times = Response times
entity-first-response = First reply: within { $days } working days.
entity-answer = Full answer: within { $days } working days.
entity-claim-title = What a report here is and is not
entity-claim-text = A report in this box lets ethics advisors guide you and lets the institution learn of the problem. It is not by itself a formal complaint before the Internal Control Body, and it does not start an administrative procedure.
entity-claim-where = To file a formal complaint, go to:
entity-claim-protection = If you fear retaliation, when you file the formal complaint you can ask for whistleblower protection measures. Here we help you prepare your case without identifying yourself.

privacy-title = Privacy notice
privacy-what = This box does not ask for your name, e-mail, phone or any other personal data, and does not keep your IP address, your browser or the exact time of your messages (only the day).
privacy-not = What you write and the files you attach are stored encrypted; only you (with your receipt) and the people shown to you can read them. If you choose to include personal data in your message, only they will see it.
privacy-purpose = The information is used only to handle your question or report and is deleted under the institution's retention policy. You can also withdraw it yourself at any time with your receipt.
privacy-rights = Since we do not know who you are, we cannot link any message to you; to exercise your rights over a message, sign in with your receipt.

form-title = Write your question or report
form-kind = What do you want to send?
kind-question = Question
kind-question-help = a doubt about how to act in an ethical situation.
kind-claim = Report
kind-claim-help = tell us about misconduct you know of.
form-message = Your message
form-message-help = Describe the situation in your own words. Up to { $limit } characters.
form-readers = Who will be able to read it
form-readers-help = Untick anyone who should not read it (for example, if your report concerns them). At least one must remain.
form-files = Files (optional)
form-files-help = Up to { $count } files of { $mib } MiB each. They are encrypted as they arrive.
form-files-metadata = Careful: files can carry hidden data that identifies you (author, computer, location). Remove it first, or send a screenshot or clean copy.
form-files-again = If you attached files, choose them again: the browser does not keep them when the form is shown again.
form-submit = Send anonymously

receipt-title = Your receipt
receipt-sent = Your message was sent and is stored safely.
receipt-warning = Copy these ten words, in order, and keep them somewhere safe. They are the only way back to your conversation: nobody can recover them for you.
receipt-how = To come back, open this site and choose “Sign in with my receipt”.
receipt-forgiving = Upper or lower case, missing accents and the number of spaces between words do not matter.
receipt-confirm = To confirm you saved it, type word number { $n }:
receipt-confirm-button = Confirm
receipt-confirm-wrong = That is not the word. Check your copy: your message is already stored, but without the right receipt you cannot come back.
receipt-skip-help = Your message is sent even if you do not confirm.
receipt-skip = Continue without confirming
receipt-confirm-expired = We can no longer check the word here, but your message is stored. Check your receipt by signing in with it.
receipt-confirmed-no-session = To read the answers, sign in with your receipt.
err-still-sending = Your message is being stored. Wait a few seconds and reload the page: you will see your receipt.
receipt-confirmed = Done: you confirmed you saved your receipt.

return-title = Sign in with my receipt
return-text = Type the ten words of your receipt, in order.
return-label = Receipt
return-button = Sign in
return-lost = If you lost your receipt we cannot recover it; you can send a new message and mention that it continues an earlier one.

thread-title = Your conversation
thread-kind = Kind
thread-status = Status
thread-created = Sent on
thread-activity = Last activity
thread-messages = Messages
thread-readers = Who can read this conversation now
thread-no-readers = For now no staff member can read it.
thread-readers-how = Besides you. The server cannot read it.
author-you = You
author-reporter = Reporter

status-received = Received
status-acknowledged = Acknowledged
status-in-progress = In progress
status-answered = Answered
status-not-competent = Not within competence
status-closed = Closed

grant-title = Your conversation is waiting for a reader
grant-text = The people who could read it have left or changed their keys. If you wish, share it with the current coordinators:
grant-button = Share with those I ticked

reply-title = Reply
reply-label = Your reply
reply-button = Send reply

logout = Sign out
logout-title = Signed out
logout-done = You signed out. You will need your receipt to come back.
withdraw-link = Withdraw (delete) this conversation
withdraw-title = Withdraw the conversation
withdraw-warning = Every message and file of this conversation will be deleted and your receipt will stop working. This cannot be undone.
withdraw-sure = I understand this cannot be undone.
withdraw-button = Delete for good
withdraw-cancel = No, back to the conversation
withdraw-done = The conversation was deleted.

staff-title = Conversations
staff-login-title = Staff sign-in
staff-login-name = User name
staff-password = Password
staff-login-button = Sign in
staff-password-title = Change password
staff-password-forced = You must choose a new password before you continue.
staff-password-why = Your password protects the key that decrypts conversations: someone who guesses it and holds a copy of the data could read them. Choose a long, unique one.
staff-password-current = Current password (the one-time one, if this is your first sign-in)
err-wrong-current-password = The current password is not right.
staff-password-new = New password
staff-password-again = Repeat it
staff-password-button = Save password
staff-admin-cli = Staff are managed with the “buzon staff” command line.
staff-threads = Conversations you can read
staff-no-threads = You have no conversations for now.
staff-open = Open

status-change = Change status
status-change-button = Change
assign-title = Assignment
assign-help = Assigning hands the conversation's key to the advisor. Removing them changes the key: they cannot read anything new.
assign-button = Assign
unassign-button = Remove assignment
regrant-button = Give access again

staff-thread-title = Conversation
thread-received-on = Received on
staff-done = Done.
staff-action = Action
assign-advisor-label = Advisor
staff-password-rule = At least 12 characters and hard to guess: a phrase of four or more uncommon words works well.
date-format = { $day } { $month } { $year }
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
