# Catálogo en español (México): el idioma predeterminado.
# Cada clave existe también en en.ftl; una prueba lo comprueba.

lang-name = Español
nav-back-home = Volver al inicio
nav-back-list = Volver a la lista
footer-reporter = Este sitio no usa JavaScript, no carga nada de otros sitios y no guarda tu dirección IP ni la hora exacta de tus mensajes.
footer-staff-link = Acceso para personal
footer-staff = Área de personal. Lo que lees aquí se descifra solo para ti; no lo copies fuera del sistema.

err-title = No se pudo completar
err-not-found = No encontramos lo que buscas. Revisa la dirección o vuelve al inicio.
err-no-reader = Dejaste fuera a todas las personas que podrían leer tu mensaje. Deja marcada al menos una para poder enviarlo.
err-empty = El mensaje está vacío. Escribe tu pregunta o denuncia; lo demás que escribiste se conservó.
err-too-long = El mensaje es demasiado largo: el límite es de { $limit } caracteres. Divídelo en dos mensajes; puedes enviar el resto como respuesta después.
err-nul = El mensaje contiene un carácter nulo (invisible) que no podemos guardar. Copia el texto en un editor sencillo, quita caracteres extraños y vuelve a intentarlo.
err-not-text = El mensaje no es texto válido. Vuelve a escribirlo o pégalo desde un editor sencillo.
err-attachment-too-large = Un archivo es demasiado grande: el límite es de { $limit } MiB por archivo. No se guardó nada de este envío; vuelve a intentarlo sin ese archivo.
err-too-many-attachments = Son demasiados archivos: el límite es { $limit }. No se guardó nada de este envío.
err-thread-full = Esta conversación llegó a su límite de { $limit } mensajes.
err-wrong-receipt = Ese recibo no abre ninguna conversación. Revisa que las diez palabras estén completas y en orden, y vuelve a intentarlo.
err-wrong-login = El usuario o la contraseña no son correctos.
err-busy = El servicio está ocupado en este momento. Espera unos segundos y vuelve a intentarlo; no se perdió nada.
err-forbidden = No puedes hacer esto.
err-bad-status = Ese cambio de estado no es posible desde el estado actual.
err-weak-password = Esa contraseña es demasiado fácil de adivinar. Usa al menos 12 caracteres; una frase de varias palabras poco comunes funciona bien.
err-taken = Ese nombre ya existe.
err-invalid = Algún dato no es válido. Revisa el formulario.
err-internal = Algo falló de nuestro lado. Tu información no se envió a ningún lado; vuelve a intentarlo más tarde.
err-cross-site = Este formulario llegó desde otro sitio y no se aceptó. Abre esta página directamente y vuelve a intentarlo.
err-form = No pudimos leer el formulario. Vuelve a la página anterior e inténtalo de nuevo.
err-form-too-large = El formulario es demasiado largo. Vuelve a la página anterior y revisa lo que escribiste.
err-session-ended = Tu sesión terminó (por seguridad se cierra tras un rato sin actividad). Vuelve a entrar con tu recibo.
err-withdraw-unsure = Para retirar la conversación marca la casilla de confirmación.
err-method = Esa dirección no acepta esta acción. Vuelve al inicio y usa los enlaces y botones de la página.
err-password-mismatch = Las dos contraseñas no coinciden.

home-title = Dudas y denuncias sobre ética pública, de forma anónima
home-lead = Aquí puedes hacer una pregunta sobre ética o presentar una denuncia sin decir quién eres. No necesitas cuenta ni correo: al enviar recibirás un recibo de diez palabras con el que podrás volver a leer las respuestas.
home-choose-entity = Elige la institución
home-no-entities = Todavía no hay instituciones registradas.
home-return-title = ¿Ya enviaste algo?
home-return-text = Vuelve con tu recibo para leer las respuestas y continuar la conversación.
home-return-link = Entrar con mi recibo

safety-title = Antes de escribir, cuídate
safety-device = No uses un equipo ni una red de tu trabajo: pueden registrar lo que visitas.
safety-tor = Lo más seguro es usar Tor Browser desde un equipo personal; este sitio funciona con su nivel de seguridad más alto.
safety-style = Evita detalles que solo tú conoces (fechas exactas, frases tuyas, nombres de archivos) si no son necesarios.
safety-metadata = Los archivos pueden llevar datos ocultos (autor, equipo, ubicación, fechas). Quítalos antes de adjuntarlos.

role-coordinator = coordinación
role-advisor = asesoría
role-entity-admin = administración de la institución

entity-who-reads = Quién podrá leer lo que envíes
entity-who-reads-text = Tu mensaje se cifra para que solo puedan leerlo estas personas de coordinación (puedes excluir a cualquiera más abajo):
entity-advisors-later = Después, la coordinación puede asignar tu conversación a personas asesoras, que también podrán leerla. Siempre verás quién puede leerla cuando vuelvas con tu recibo. El servidor no puede leerla.
entity-times = Tiempos de respuesta
entity-first-response = Primera respuesta: dentro de { $days } días hábiles.
entity-answer = Respuesta de fondo: dentro de { $days } días hábiles.
entity-claim-title = Qué es y qué no es una denuncia aquí
entity-claim-text = Una denuncia en este buzón sirve para que personas asesoras en ética te orienten y la institución conozca el problema. No es por sí misma una denuncia formal ante el Órgano Interno de Control, ni inicia un procedimiento administrativo.
entity-claim-where = Para presentar una denuncia formal acude a:
entity-claim-protection = Si temes represalias, al presentar la denuncia formal puedes pedir medidas de protección para personas denunciantes. Aquí te ayudamos a preparar tu caso sin que tengas que identificarte.

privacy-title = Aviso de privacidad
privacy-what = Este buzón no te pide nombre, correo, teléfono ni ningún otro dato personal, y no guarda tu dirección IP, tu navegador ni la hora exacta de tus mensajes (solo el día).
privacy-not = Lo que escribes y los archivos que adjuntas se guardan cifrados; solo pueden leerlos tú (con tu recibo) y las personas que se te muestran. Si decides incluir datos personales en tu mensaje, solo esas personas los verán.
privacy-purpose = La información se usa únicamente para atender tu pregunta o denuncia y se borra según la política de conservación de la institución. También puedes retirarla tú en cualquier momento con tu recibo.
privacy-rights = Como no sabemos quién eres, no podemos relacionar ningún mensaje contigo; para ejercer tus derechos sobre un mensaje, entra con tu recibo.

form-title = Escribe tu pregunta o denuncia
form-kind = ¿Qué quieres enviar?
kind-question = Pregunta
kind-question-help = una duda sobre cómo actuar ante una situación ética.
kind-claim = Denuncia
kind-claim-help = informar de una conducta indebida que conoces.
form-message = Tu mensaje
form-message-help = Cuéntanos la situación con tus palabras. Hasta { $limit } caracteres.
form-readers = Quién podrá leerlo
form-readers-help = Desmarca a quien no deba leerlo (por ejemplo, si tu denuncia tiene que ver con esa persona). Debe quedar al menos una.
form-files = Archivos (opcional)
form-files-help = Hasta { $count } archivos de { $mib } MiB cada uno. Se cifran al recibirlos.
form-files-metadata = Atención: los archivos pueden llevar datos ocultos que te identifiquen (autor, equipo, ubicación). Quítalos antes o envía una captura o copia limpia.
form-files-again = Si adjuntaste archivos, vuelve a elegirlos: el navegador no los conserva al mostrar de nuevo el formulario.
form-submit = Enviar de forma anónima

receipt-title = Tu recibo
receipt-sent = Tu mensaje se envió y está guardado de forma segura.
receipt-warning = Copia estas diez palabras, en orden, y guárdalas en un lugar seguro. Son la única forma de volver a tu conversación: nadie puede recuperarlas por ti.
receipt-how = Para volver, entra a este sitio y elige «Entrar con mi recibo».
receipt-forgiving = No importa si usas mayúsculas o minúsculas, si omites los acentos o cuántos espacios pones entre palabras.
receipt-confirm = Para confirmar que lo guardaste, escribe la palabra número { $n }:
receipt-confirm-button = Confirmar
receipt-confirm-wrong = Esa no es la palabra. Revisa tu copia: tu mensaje ya está guardado, pero sin el recibo correcto no podrás volver.
receipt-skip-help = Tu mensaje ya está enviado aunque no confirmes.
receipt-skip = Continuar sin confirmar
receipt-confirm-expired = Ya no podemos comprobar la palabra aquí, pero tu mensaje está guardado. Comprueba tu recibo entrando con él.
receipt-confirmed-no-session = Para leer las respuestas, entra con tu recibo.
err-still-sending = Tu mensaje se está guardando. Espera unos segundos y vuelve a cargar la página: verás tu recibo.
receipt-confirmed = Listo: confirmaste que guardaste tu recibo.

return-title = Entrar con mi recibo
return-text = Escribe las diez palabras de tu recibo, en orden.
return-label = Recibo
return-button = Entrar
return-lost = Si perdiste tu recibo no podemos recuperarlo; puedes enviar un mensaje nuevo y mencionar que continúa uno anterior.

thread-title = Tu conversación
thread-kind = Tipo
thread-status = Estado
thread-created = Enviada el
thread-activity = Última actividad
thread-messages = Mensajes
thread-readers = Quién puede leer esta conversación ahora
thread-no-readers = Por ahora nadie del personal puede leerla.
thread-readers-how = Además de ti. El servidor no puede leerla.
author-you = Tú
author-reporter = Persona que reporta

status-received = Recibida
status-acknowledged = Acusada de recibido
status-in-progress = En atención
status-answered = Respondida
status-not-competent = Fuera de competencia
status-closed = Cerrada

grant-title = Tu conversación espera a quien la lea
grant-text = Las personas que podían leerla ya no están o cambiaron sus claves. Si quieres, compártela con la coordinación actual:
grant-button = Compartir con quienes marqué

reply-title = Responder
reply-label = Tu respuesta
reply-button = Enviar respuesta

logout = Salir
logout-title = Sesión cerrada
logout-done = Saliste. Para volver necesitarás tu recibo.
withdraw-link = Retirar (borrar) esta conversación
withdraw-title = Retirar la conversación
withdraw-warning = Se borrarán todos los mensajes y archivos de esta conversación y tu recibo dejará de funcionar. No se puede deshacer.
withdraw-sure = Entiendo que no se puede deshacer.
withdraw-button = Borrar definitivamente
withdraw-cancel = No, volver a la conversación
withdraw-done = La conversación se borró.

staff-title = Conversaciones
staff-login-title = Acceso para personal
staff-login-name = Usuario
staff-password = Contraseña
staff-login-button = Entrar
staff-password-title = Cambiar contraseña
staff-password-forced = Debes elegir una contraseña nueva antes de continuar.
staff-password-why = Tu contraseña protege la clave que descifra las conversaciones: si alguien la adivina y tiene una copia de los datos, podría leerlas. Elige una larga y única.
staff-password-current = Contraseña actual (la de un solo uso, si es tu primer acceso)
err-wrong-current-password = La contraseña actual no es correcta.
staff-password-new = Contraseña nueva
staff-password-again = Repítela
staff-password-button = Guardar contraseña
staff-admin-cli = La administración de personal se hace con la línea de comandos «buzon staff».
staff-threads = Conversaciones que puedes leer
staff-no-threads = No tienes conversaciones por ahora.
staff-open = Abrir

status-change = Cambiar estado
status-change-button = Cambiar
assign-title = Asignación
assign-help = Asignar entrega la clave de la conversación a la persona asesora. Quitarla cambia la clave: no podrá leer nada nuevo.
assign-button = Asignar
unassign-button = Quitar asignación
regrant-button = Volver a dar acceso

staff-thread-title = Conversación
thread-received-on = Recibida el
staff-done = Listo.
staff-action = Acción
assign-advisor-label = Persona asesora
staff-password-rule = Al menos 12 caracteres y difícil de adivinar: una frase de cuatro o más palabras poco comunes funciona bien.
date-format = { $day } de { $month } de { $year }
month-1 = enero
month-2 = febrero
month-3 = marzo
month-4 = abril
month-5 = mayo
month-6 = junio
month-7 = julio
month-8 = agosto
month-9 = septiembre
month-10 = octubre
month-11 = noviembre
month-12 = diciembre

## Pases (Privacy Pass): página de obtención, formulario y errores
err-token-missing = Esta entidad pide un pase para recibir mensajes nuevos. Pega uno de tus pases en el campo «Pase»; si no tienes, consíguelos con el código que te dio tu entidad.
err-token-malformed = Eso no es un pase válido. Copia el pase completo, tal como lo recibiste: una sola línea de letras, números y los signos - _ =.
err-token-wrong-entity = Ese pase no es de esta entidad. Cada entidad tiene sus propios pases: usa uno que hayas obtenido para ella.
err-token-expired = Ese pase ya venció. Consigue pases nuevos con tu código; los pases valen hasta el final del periodo siguiente a aquel en que los obtuviste.
err-token-spent = Ese pase ya se usó. Cada pase sirve para un solo mensaje nuevo; usa otro de tus pases.
err-new-threads-busy = Esta entidad recibió muchos mensajes nuevos en la última hora. Espera un rato y vuelve a intentarlo; lo que escribiste se conservó.
form-token = Pase
form-token-help = Esta entidad pide un pase por cada conversación nueva. El pase demuestra que te dieron un código, pero no dice quién eres: nadie puede relacionarlo con el código con el que lo obtuviste.
form-token-get = Conseguir pases
pases-title = Obtener pases
pases-lead = Con el código que te dio tu entidad obtienes pases. Cada pase permite iniciar una conversación, y no se puede relacionar con tu código: quien lo recibe sabe que es válido, no de quién es.
pases-why-title = Por qué esta página usa JavaScript
pases-why = Para que el pase no se pueda relacionar con tu código, tu navegador lo «cubre» antes de pedir la firma y lo «descubre» después. Ese cálculo tiene que hacerse en tu dispositivo, no en el servidor.
pases-js = Por eso esta es la única página del buzón con un programa (JavaScript). El programa viene de este mismo servidor, no carga nada de otros sitios y solo habla con este servidor.
pases-safest = Si usas Tor Browser en el nivel «Más seguro», JavaScript está apagado y esta página no funcionará. Usa en su lugar el programa de línea de comandos de buzon, que hace lo mismo en tu computadora:
pases-get-title = Obtener pases
pases-noscript = JavaScript está desactivado, así que aquí no se pueden obtener pases. Usa el programa de línea de comandos (arriba).
pases-code = Código de tu entidad
pases-count = Cuántos pases
pases-submit = Obtener pases
pases-working = Obteniendo pases…
pases-done = Listo. Pases obtenidos: { "{" }count{ "}" }. Cópialos y guárdalos en un lugar seguro; cada uno sirve una vez.
pases-failed = No se pudieron obtener todos los pases (obtenidos: { "{" }done{ "}" }): { "{" }message{ "}" }
pases-out = Tus pases (uno por línea)
pases-use = Copia tus pases antes de salir de esta página. Después, pega uno en el formulario de
api-code-missing = Falta el código. Escribe el código que te dio tu entidad.
api-code-unknown = Ese código no existe. Revisa que lo hayas escrito completo (16 letras y números).
api-code-expired = Ese código ya venció. Pide uno nuevo a tu entidad.
api-code-revoked = Ese código fue revocado. Pide uno nuevo a tu entidad.
api-code-exhausted = Ya obtuviste todos los pases que da este código en este periodo. Podrás obtener más en el siguiente periodo.
api-code-wrong-entity = Ese código es de otra entidad. Obtén los pases desde la página de la entidad que te dio el código.
api-key-unknown = La clave con la que se pidió el pase ya no está vigente. Vuelve a cargar la página e inténtalo de nuevo.
api-request-malformed = La solicitud no tiene el formato esperado.
api-wrong-content-type = La solicitud debe enviarse como application/private-token-request.
api-unavailable = El servicio no está disponible en este momento. Vuelve a intentarlo en unos minutos; no se perdió nada.
api-entity-unknown = No existe una entidad con ese nombre.
api-not-found = No existe esa dirección de la API.
api-method = Esa dirección de la API no acepta este método.
api-too-large = La solicitud es demasiado grande.
footer-reporter-script = Esta es la única página del sitio con JavaScript, y solo habla con este servidor. El sitio no carga nada de otros sitios y no guarda tu dirección IP ni la hora exacta de tus mensajes.
form-token-label = Pega aquí un pase
pases-period = Los pases se agrupan en periodos de { $days } días: un código da cierto número de pases por periodo, y un pase vale durante el periodo en que lo obtienes y el siguiente.
pases-failed-none = No se pudo obtener ningún pase: { "{" }message{ "}" }
