print "Hello world!"
